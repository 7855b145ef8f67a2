"""Users, tokens and grants through the server's admin API (same methods as SqlUserStore)."""

from __future__ import annotations

from urllib.parse import quote

from modelyard.domain.users import GLOBAL, IssuedToken, Role, Scope, TokenInfo, User
from modelyard.store.rest import _codec as c
from modelyard.store.rest._http import Transport


def _name(name: str) -> str:
    return quote(name, safe="")


class RestUserStore:
    def __init__(self, http: Transport) -> None:
        self._http = http

    def close(self) -> None:
        self._http.close()

    def me(self) -> tuple[str, list[str]]:
        answer = self._http.call("GET", "/users/me")
        return answer["name"], [f"{g['role']} ({g['scope']})" for g in answer["grants"]]

    def create(self, name: str, role: Role | None = None, scope: Scope = GLOBAL) -> User:
        body = {
            "name": name,
            "role": role.value if role else None,
            "scope": str(scope),
            "token": False,
        }
        return c.user_from_json(self._http.call("POST", "/users", body=body)["user"])

    def get(self, name: str) -> User:
        return c.user_from_json(self._http.call("GET", f"/users/{_name(name)}"))

    def list(self) -> list[User]:
        return [c.user_from_json(u) for u in self._http.pages("/users")]

    def grant(self, name: str, role: Role, scope: Scope = GLOBAL) -> User:
        body = {"role": role.value, "scope": str(scope)}
        answer = self._http.call("POST", f"/users/{_name(name)}/grants", body=body, safe=True)
        return c.user_from_json(answer)

    def ungrant(self, name: str, scope: Scope = GLOBAL) -> User:
        answer = self._http.call(
            "DELETE", f"/users/{_name(name)}/grants", params={"scope": str(scope)}
        )
        return c.user_from_json(answer)

    def revoke(self, name: str) -> User:
        answer = self._http.call("POST", f"/users/{_name(name)}/revoke", safe=True)
        return c.user_from_json(answer)

    def issue_token(
        self, name: str, *, expires_at: int | None = None, description: str = ""
    ) -> IssuedToken:
        body = {"expires_at": expires_at, "description": description}
        answer = self._http.call("POST", f"/users/{_name(name)}/tokens", body=body)
        return IssuedToken(c.token_from_json(answer["token_info"]), answer["token"])

    def tokens(self, name: str) -> list[TokenInfo]:
        items = self._http.call("GET", f"/users/{_name(name)}/tokens")["items"]
        return [c.token_from_json(t) for t in items]

    def revoke_token(self, token_id: str) -> TokenInfo:
        return c.token_from_json(self._http.call("DELETE", f"/tokens/{_name(token_id)}"))
