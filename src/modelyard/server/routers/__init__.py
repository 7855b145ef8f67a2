"""One router per capability; each route parses, checks the role, calls the store, renders."""
