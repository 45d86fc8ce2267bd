"""Pure market computations over pandas/numpy: no I/O, no Textual. Each function's docstring gives the formula.

May import ``records`` only (the record types and frame schemas it computes over).
"""
