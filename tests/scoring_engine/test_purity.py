"""The engine is plain Python: importing it loads no Django (import-linter checks the imports;
this checks what actually gets loaded, transitive imports included)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_engine_loads_no_django() -> None:
    code = (
        "import sys, leadbase.scoring_engine as e; e.default_rule_set(); "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'ninja')); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"the engine loaded Django modules: {done.stdout}{done.stderr}"
