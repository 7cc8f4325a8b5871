"""The baseline for `sozialmonitor ask "/status M21"`: a plain TinyDB script doing the same lookup.

It opens the same observations, stored the plain way (one document each, TinyDB's own JSONStorage), finds the
latest period of each of the measure's indicators with its whole-city value (else its first area) and how many
areas that period has, and prints one line per indicator. Nothing else: no settings, catalogue, meetings.
Usage: python bench/plain_tinydb.py STORE.json INDICATOR[,INDICATOR...]
"""

import sys

from tinydb import Query, TinyDB


def main() -> None:
    path, ids = sys.argv[1], sys.argv[2].split(",")
    db = TinyDB(path)
    found = db.table("observations").search(Query().indicator.one_of(ids))
    for ind in ids:
        rows = [d for d in found if d["indicator"] == ind]
        if not rows:
            print(f"{ind}: kein Wert")
            continue
        latest = max(d["period"] for d in rows)
        areas = {d["area"]: d for d in rows if d["period"] == latest}
        pick = areas[""] if "" in areas else areas[min(areas)]
        print(f"{ind}: {pick['value']} ({latest}, {pick['area'] or 'Stadt'}; {len(areas)} Gebiete)")
    db.close()


if __name__ == "__main__":
    main()
