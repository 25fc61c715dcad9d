"""Write the JSON Schema of every source to schemas/json/ (`python -m schemas.export`)."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.sources import SCHEMAS

JSON_DIR = Path(__file__).parent / "json"


def rendered() -> dict[str, str]:
    """File name → JSON text, for every schema."""
    return {
        f"{s.id}.v{s.version}.schema.json": json.dumps(
            s.json_schema(), indent=2, ensure_ascii=False
        )
        + "\n"
        for s in SCHEMAS.values()
    }


def main() -> None:
    """Rewrite the committed JSON Schema files."""
    for name, text in rendered().items():
        (JSON_DIR / name).write_text(text, encoding="utf-8")
        print(JSON_DIR / name)


if __name__ == "__main__":
    main()
