import sys

from desktop_crm.cli import main

sys.exit(main())
