"""``python -m pruvon_core.testing.sim``: the simulator without the console script."""

from pruvon_core.testing.sim.main import main

main()
