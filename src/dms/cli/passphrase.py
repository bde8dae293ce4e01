"""Where the keystore passphrase comes from: DMS_PASSPHRASE, DMS_PASSPHRASE_FILE, or a prompt."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from dms.errors import KeystoreError


def get_passphrase(*, confirm: bool = False) -> str:
    value = os.environ.get("DMS_PASSPHRASE")
    if value:
        return value
    file = os.environ.get("DMS_PASSPHRASE_FILE")
    if file:
        try:
            return Path(file).read_text().rstrip("\n")
        except OSError as exc:
            raise KeystoreError(f"cannot read DMS_PASSPHRASE_FILE {file}: {exc.strerror}") from exc
    if sys.stdin.isatty():
        text = "New keystore passphrase" if confirm else "Keystore passphrase"
        return str(click.prompt(text, hide_input=True, confirmation_prompt=confirm))
    raise KeystoreError("no passphrase for the keystore",
                        hint="set DMS_PASSPHRASE (or DMS_PASSPHRASE_FILE), or run in a terminal "
                             "to be prompted")
