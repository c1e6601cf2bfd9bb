"""The PNG: FieldSync, the peer and the ceiling side by side per workload (median, min–max)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLORS = {
    "fieldsync-sqlite": "#1f77b4",
    "fieldsync-postgresql": "#2ca02c",
    "peer": "#d62728",
    "ceiling": "#7f7f7f",
}


def chart(s: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in next(iter(s["tables"].values())) if k != "a_first_pull"]
    fig, axes = plt.subplots(
        len(s["tables"]),
        len(keys),
        squeeze=False,
        figsize=(3.2 * len(keys), 3.2 * len(s["tables"])),
    )
    for i, (b, rows) in enumerate(s["tables"].items()):
        for j, key in enumerate(keys):
            ax, row = axes[i][j], rows[key]
            names = [x for x in s["systems"] if x in row]
            med = [row[x]["seconds"]["median"] for x in names]
            lo = [m - row[x]["seconds"]["min"] for m, x in zip(med, names, strict=True)]
            hi = [row[x]["seconds"]["max"] - m for m, x in zip(med, names, strict=True)]
            ax.bar(
                range(len(names)),
                med,
                yerr=[lo, hi],
                capsize=3,
                color=[COLORS.get(x, "#999") for x in names],
            )
            ax.set_yscale("log")
            ax.set_xticks(
                range(len(names)),
                [x.replace("fieldsync-", "FS ") for x in names],
                rotation=30,
                fontsize=7,
            )
            ax.set_title(f"{row['label'][:38]}\n(page/batch {b})", fontsize=8)
            ax.set_ylabel("seconds (log)", fontsize=7)
    fig.suptitle(
        "FieldSync vs the peer (pouchdb-server + PouchDB) and the ceiling — median, min–max",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
