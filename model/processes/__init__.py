"""Queueing processes behind the plan modules: SimPy references and their vectorised twins."""
