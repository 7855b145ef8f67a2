"""``yard demo``: the lifecycle that exists so far, end to end, on generated data.

Each capability extends this demo, so ``make demo`` always shows the whole lifecycle.
"""

from modelyard.demo._run import run_demo

__all__ = ["run_demo"]
