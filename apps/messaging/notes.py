"""The content types of friend and group notifications (OpenIM numbering), named once."""

from __future__ import annotations

from enum import IntEnum


class FriendNote(IntEnum):
    """Friend notification content types (OpenIM numbering)."""

    REQUEST_ACCEPTED = 1201
    REQUEST_REFUSED = 1202
    REQUEST = 1203
    FRIEND_ADDED = 1204
    FRIEND_DELETED = 1205
    REMARK_SET = 1206
    BLACK_ADDED = 1207
    BLACK_REMOVED = 1208
    FRIEND_INFO_UPDATED = 1209
    FRIENDS_INFO_UPDATE = 1210


class GroupNote(IntEnum):
    """Group notification content types (OpenIM numbering)."""

    CREATED = 1501
    INFO_SET = 1502
    JOIN_REQUEST = 1503
    MEMBER_QUIT = 1504
    REQUEST_ACCEPTED = 1505
    REQUEST_REFUSED = 1506
    OWNER_TRANSFERRED = 1507
    MEMBER_KICKED = 1508
    MEMBER_INVITED = 1509
    MEMBER_ENTER = 1510
    DISMISSED = 1511
    MEMBER_MUTED = 1512
    MEMBER_UNMUTED = 1513
    GROUP_MUTED = 1514
    GROUP_UNMUTED = 1515
    MEMBER_INFO_SET = 1516
    SET_TO_ADMIN = 1517
    SET_TO_MEMBER = 1518
    NOTICE_SET = 1519
    NAME_SET = 1520
