"""Check-digit rules for Dutch person numbers (BSN and onderwijsnummer).

Both use the weighted "elfproef": digits d1..d9 with weights 9, 8, …, 2, −1. A BSN's sum is
divisible by 11; an onderwijsnummer starts with "10" and leaves remainder 5, so the two never
collide. The vectorised forms check a whole column at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1], dtype=np.int64)


def elfproef_remainder(number: str) -> int | None:
    """Weighted sum mod 11 of a nine-digit string, or None if it is not nine digits."""
    if len(number) != 9 or not number.isascii() or not number.isdigit():
        return None
    return sum(int(d) * int(w) for d, w in zip(number, WEIGHTS, strict=True)) % 11


def is_bsn(number: str) -> bool:
    """True when `number` is a syntactically valid BSN (nine digits, elfproef, not all zeros)."""
    return elfproef_remainder(number) == 0 and number != "000000000"


def is_onderwijsnummer(number: str) -> bool:
    """True when `number` is a valid onderwijsnummer (starts with 10, elfproef remainder 5)."""
    return number.startswith("10") and elfproef_remainder(number) == 5


def _as_arrow(values: pd.Series) -> pa.StringArray:
    arr = pa.array(values, type=pa.string(), from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def remainders(values: pd.Series) -> npt.NDArray[np.int64]:
    """Vectorised elfproef remainder; −1 where a value is not exactly nine ASCII digits."""
    arr = _as_arrow(values)
    shaped = pc.fill_null(pc.match_substring_regex(arr, "^[0-9]{9}$"), False)
    out = np.full(len(arr), -1, dtype=np.int64)
    good = arr.filter(shaped)
    if len(good):
        # Nine bytes each, back to back in the filtered array's data buffer.
        start = np.frombuffer(good.buffers()[1], dtype=np.int32)[good.offset]
        data = np.frombuffer(good.buffers()[2], dtype=np.uint8)[start : start + 9 * len(good)]
        digits = data.reshape(-1, 9).astype(np.int64) - 48
        out[shaped.to_numpy(zero_copy_only=False)] = (digits @ WEIGHTS) % 11
    return out


def bsn_mask(values: pd.Series) -> npt.NDArray[np.bool_]:
    """Vectorised `is_bsn` over a column of strings (missing values are invalid)."""
    return (remainders(values) == 0) & (values.astype("string") != "000000000").to_numpy(
        dtype=bool, na_value=False
    )


def onderwijsnummer_mask(values: pd.Series) -> npt.NDArray[np.bool_]:
    """Vectorised `is_onderwijsnummer`."""
    prefix = values.astype("string").str.startswith("10").to_numpy(dtype=bool, na_value=False)
    return (remainders(values) == 5) & prefix


def complete_bsn(prefix8: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Append the check digit to eight-digit prefixes; −1 where no digit makes a valid BSN."""
    digits = (prefix8[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    total = digits @ WEIGHTS[:8]
    check = total % 11
    return np.where(check <= 9, prefix8 * 10 + check, -1)


def complete_onderwijsnummer(prefix8: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Append the digit that gives remainder 5; −1 where none does. Prefixes must start with 10."""
    digits = (prefix8[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    total = digits @ WEIGHTS[:8]
    check = (total - 5) % 11
    return np.where(check <= 9, prefix8 * 10 + check, -1)
