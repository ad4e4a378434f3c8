"""``python -m pruvon_testing.sim``: the simulator without the console script."""

from pruvon_testing.sim.main import main

main()
