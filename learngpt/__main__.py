from learngpt.cli import main

raise SystemExit(main())
