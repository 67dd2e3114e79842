"""python -m plmodel"""

from plmodel.cli import entry

raise SystemExit(entry())
