"""python -m plmodel"""

from .cli import main

raise SystemExit(main())
