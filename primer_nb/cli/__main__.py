"""``python -m primer_nb.cli``: the same as the ``primer-nb`` command."""

import sys

from primer_nb.cli.commands import main

sys.exit(main())
