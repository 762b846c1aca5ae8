from vbahv_emulator.cli import main

raise SystemExit(main())
