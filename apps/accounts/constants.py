"""Platforms and login policies (OpenIM's numbering, DESIGN §3)."""

from __future__ import annotations

from enum import IntEnum


class Platform(IntEnum):
    IOS = 1
    ANDROID = 2
    WINDOWS = 3
    MACOS = 4
    WEB = 5
    MINI_WEB = 6
    LINUX = 7
    ANDROID_PAD = 8
    IPAD = 9
    ADMIN = 10
    HARMONY_OS = 11


PLATFORM_CHOICES = [(p.value, p.name.replace("_", " ").title().replace("Ios", "iOS")) for p in Platform]
PLATFORM_IDS = frozenset(p.value for p in Platform)

# platform classes, for the one-login-per-class policy
PLATFORM_CLASS: dict[int, str] = {
    Platform.IOS: "mobile",
    Platform.ANDROID: "mobile",
    Platform.WINDOWS: "pc",
    Platform.MACOS: "pc",
    Platform.LINUX: "pc",
    Platform.ANDROID_PAD: "pad",
    Platform.IPAD: "pad",
    Platform.WEB: "web",
    Platform.MINI_WEB: "miniweb",
    Platform.ADMIN: "admin",
    Platform.HARMONY_OS: "harmonyos",
}


class LoginPolicy(IntEnum):
    KEEP_MANY = 0  # keep up to IM_MULTI_LOGIN_MAX_PER_PLATFORM tokens per platform
    ONE_PER_PLATFORM = 1  # default: a new login kicks the older one on the same platform
    ONE_PER_CLASS = 4  # one login per platform class (mobile, pc, pad, ...)
    PC_AND_ONE_OTHER = 5  # PC platforms unrestricted, one login among all others


class RecvOpt(IntEnum):
    NORMAL = 0
    REJECT = 1
    NO_PUSH = 2


class TokenStatus(IntEnum):
    NORMAL = 0
    KICKED = 2
