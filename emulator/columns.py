"""Column builders for the simulated dataset's long frames.

A long frame (funding, open interest, liquidations, long/short) is built part after part, each part one venue's or
one coin's run of rows. Its name columns are categories: hundreds of thousands of rows of venue and coin names as
Python strings would be pointers to strings (several MB per column), codes into a few names are a byte or two a row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def repeated_names(labels: Sequence[str], lengths: Sequence[int] | int) -> pd.Categorical[str]:
    """``labels[i]`` repeated ``lengths[i]`` times (every label ``lengths`` times when it is one number), one after
    the other, as a categorical column whose categories are the labels in sorted order."""
    categories = sorted(set(labels))
    index = {name: i for i, name in enumerate(categories)}
    codes = np.array([index[label] for label in labels], dtype=np.int16)
    return pd.Categorical.from_codes(np.repeat(codes, lengths), categories=pd.Index(categories))
