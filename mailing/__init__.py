"""Mailing: label sheets, reminder postcards, vendor files and code slips (issue 3)."""
