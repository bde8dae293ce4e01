"""A writer the crash test SIGKILLs: endless multi-document transactions on one database.

Each transaction moves ``k`` units from one account to another, appends a log entry and
sets the ``progress`` record, all at once; the total of units never changes. After each
commit it prints the committed sequence number, so the test knows what must survive.

    python store_crash_writer.py DB_PATH SEED
"""

from __future__ import annotations

import random
import sys

from dms.store import SQLiteStore

ACCOUNTS = 16
START_UNITS = 100


def main(path: str, seed: int) -> None:
    rnd = random.Random(seed)
    store = SQLiteStore(path)
    accounts, log = store.collection("accounts"), store.collection("log")
    progress = store.record("progress")
    with store.transaction():
        if accounts.count() == 0:
            for i in range(ACCOUNTS):
                accounts.put(f"a{i:02d}", {"units": START_UNITS, "last": 0})
    seq = log.count()
    print("ready", seq, flush=True)
    while True:
        seq += 1
        src, dst = (f"a{i:02d}" for i in rnd.sample(range(ACCOUNTS), 2))
        k = rnd.randint(1, 10)
        with store.transaction():
            a, b = accounts.get(src), accounts.get(dst)
            assert a is not None and b is not None
            # padding of varying size makes transactions span and rewrite several pages
            accounts.put(src, {"units": a["units"] - k, "last": seq, "pad": "x" * rnd.randint(0, 3000)})
            accounts.put(dst, {"units": b["units"] + k, "last": seq, "pad": "y" * rnd.randint(0, 3000)})
            log.put(f"{seq:09d}", {"seq": seq, "from": src, "to": dst, "k": k})
            progress.set({"seq": seq})
        print(seq, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
