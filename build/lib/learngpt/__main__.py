from learngpt.commands import main

raise SystemExit(main())
