"""Personal (free) mailbox domains: an address there says nothing about the lead's company."""

from __future__ import annotations

PERSONAL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
        "ymail.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "outlook.com",
        "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "gmx.de", "gmx.net",
        "gmx.com", "web.de", "t-online.de", "mail.com", "mail.ru", "yandex.ru", "yandex.com",
        "proton.me", "protonmail.com", "zoho.com", "qq.com", "163.com", "126.com", "orange.fr",
        "free.fr", "laposte.net", "libero.it", "virgilio.it", "btinternet.com", "comcast.net",
        "verizon.net", "att.net", "sbcglobal.net", "rediffmail.com", "uol.com.br", "bol.com.br",
        "naver.com", "hanmail.net", "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "fastmail.com",
        "hey.com", "tutanota.com", "posteo.de",
    }
)  # fmt: skip


def is_personal_domain(domain: str) -> bool:
    return domain.lower() in PERSONAL_DOMAINS
