"""python -m plmodel"""

from plmodel.cli import main

raise SystemExit(main())
