"""Pure market computations over pandas/numpy: no I/O, no Textual. Each function's docstring gives the formula."""
