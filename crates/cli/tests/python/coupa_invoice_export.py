"""Counts the approved invoices of a Coupa instance: a connector written for real Coupa, as
integrations in the field are. It builds https://{instance}.coupahost.com itself, will not talk
plain http, mints a client-credentials token and pages through /api/invoices by id.

    COUPA_INSTANCE=acme COUPA_CLIENT_ID=... COUPA_CLIENT_SECRET=... python3 coupa_invoice_export.py
"""

import json
import os
import sys

import requests

PAGE = 50


def base_url(instance):
    return f"https://{instance}.coupahost.com"


def access_token(instance, client_id, client_secret, scope):
    url = f"{base_url(instance)}/oauth2/token"
    if not url.startswith("https://"):
        raise SystemExit("refusing to send a client secret over plain http")
    answer = requests.post(
        url,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scope,
        },
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()


def approved_invoices(instance, token):
    invoices = []
    offset = 0
    while True:
        answer = requests.get(
            f"{base_url(instance)}/api/invoices",
            params={"status": "approved", "order_by": "id", "offset": offset, "limit": PAGE},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=30,
        )
        answer.raise_for_status()
        page = answer.json()
        invoices.extend(page)
        if len(page) < PAGE:
            return invoices
        offset += PAGE


def main():
    instance = os.environ["COUPA_INSTANCE"]
    tokens = access_token(
        instance,
        os.environ["COUPA_CLIENT_ID"],
        os.environ["COUPA_CLIENT_SECRET"],
        os.environ.get("COUPA_SCOPE", "core.invoice.read"),
    )
    invoices = approved_invoices(instance, tokens["access_token"])
    json.dump(
        {
            "base_url": base_url(instance),
            "expires_in": tokens["expires_in"],
            "approved_invoices": len(invoices),
            "ids": [invoice["id"] for invoice in invoices],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
