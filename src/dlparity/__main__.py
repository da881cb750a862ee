from dlparity.cli import main

raise SystemExit(main())
