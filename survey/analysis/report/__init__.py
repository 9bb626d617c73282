"""The published survey report (調査報告書, issue 16): ``survey report --out FILE.pdf``."""
