from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OfflinePushInfo(_message.Message):
    __slots__ = ("title", "desc", "ex", "iOSPushSound", "iOSBadgeCount", "signalInfo")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESC_FIELD_NUMBER: _ClassVar[int]
    EX_FIELD_NUMBER: _ClassVar[int]
    IOSPUSHSOUND_FIELD_NUMBER: _ClassVar[int]
    IOSBADGECOUNT_FIELD_NUMBER: _ClassVar[int]
    SIGNALINFO_FIELD_NUMBER: _ClassVar[int]
    title: str
    desc: str
    ex: str
    iOSPushSound: str
    iOSBadgeCount: bool
    signalInfo: str
    def __init__(self, title: _Optional[str] = ..., desc: _Optional[str] = ..., ex: _Optional[str] = ..., iOSPushSound: _Optional[str] = ..., iOSBadgeCount: _Optional[bool] = ..., signalInfo: _Optional[str] = ...) -> None: ...

class MsgData(_message.Message):
    __slots__ = ("sendID", "recvID", "groupID", "clientMsgID", "serverMsgID", "senderPlatformID", "senderNickname", "senderFaceURL", "sessionType", "msgFrom", "contentType", "content", "seq", "sendTime", "createTime", "status", "isRead", "options", "offlinePushInfo", "atUserIDList", "attachedInfo", "ex", "keyVersion", "dstUserIDs")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bool
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bool] = ...) -> None: ...
    SENDID_FIELD_NUMBER: _ClassVar[int]
    RECVID_FIELD_NUMBER: _ClassVar[int]
    GROUPID_FIELD_NUMBER: _ClassVar[int]
    CLIENTMSGID_FIELD_NUMBER: _ClassVar[int]
    SERVERMSGID_FIELD_NUMBER: _ClassVar[int]
    SENDERPLATFORMID_FIELD_NUMBER: _ClassVar[int]
    SENDERNICKNAME_FIELD_NUMBER: _ClassVar[int]
    SENDERFACEURL_FIELD_NUMBER: _ClassVar[int]
    SESSIONTYPE_FIELD_NUMBER: _ClassVar[int]
    MSGFROM_FIELD_NUMBER: _ClassVar[int]
    CONTENTTYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SENDTIME_FIELD_NUMBER: _ClassVar[int]
    CREATETIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ISREAD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    OFFLINEPUSHINFO_FIELD_NUMBER: _ClassVar[int]
    ATUSERIDLIST_FIELD_NUMBER: _ClassVar[int]
    ATTACHEDINFO_FIELD_NUMBER: _ClassVar[int]
    EX_FIELD_NUMBER: _ClassVar[int]
    KEYVERSION_FIELD_NUMBER: _ClassVar[int]
    DSTUSERIDS_FIELD_NUMBER: _ClassVar[int]
    sendID: str
    recvID: str
    groupID: str
    clientMsgID: str
    serverMsgID: str
    senderPlatformID: int
    senderNickname: str
    senderFaceURL: str
    sessionType: int
    msgFrom: int
    contentType: int
    content: bytes
    seq: int
    sendTime: int
    createTime: int
    status: int
    isRead: bool
    options: _containers.ScalarMap[str, bool]
    offlinePushInfo: OfflinePushInfo
    atUserIDList: _containers.RepeatedScalarFieldContainer[str]
    attachedInfo: str
    ex: str
    keyVersion: int
    dstUserIDs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, sendID: _Optional[str] = ..., recvID: _Optional[str] = ..., groupID: _Optional[str] = ..., clientMsgID: _Optional[str] = ..., serverMsgID: _Optional[str] = ..., senderPlatformID: _Optional[int] = ..., senderNickname: _Optional[str] = ..., senderFaceURL: _Optional[str] = ..., sessionType: _Optional[int] = ..., msgFrom: _Optional[int] = ..., contentType: _Optional[int] = ..., content: _Optional[bytes] = ..., seq: _Optional[int] = ..., sendTime: _Optional[int] = ..., createTime: _Optional[int] = ..., status: _Optional[int] = ..., isRead: _Optional[bool] = ..., options: _Optional[_Mapping[str, bool]] = ..., offlinePushInfo: _Optional[_Union[OfflinePushInfo, _Mapping]] = ..., atUserIDList: _Optional[_Iterable[str]] = ..., attachedInfo: _Optional[str] = ..., ex: _Optional[str] = ..., keyVersion: _Optional[int] = ..., dstUserIDs: _Optional[_Iterable[str]] = ...) -> None: ...

class PullMsgs(_message.Message):
    __slots__ = ("Msgs", "isEnd")
    MSGS_FIELD_NUMBER: _ClassVar[int]
    ISEND_FIELD_NUMBER: _ClassVar[int]
    Msgs: _containers.RepeatedCompositeFieldContainer[MsgData]
    isEnd: bool
    def __init__(self, Msgs: _Optional[_Iterable[_Union[MsgData, _Mapping]]] = ..., isEnd: _Optional[bool] = ...) -> None: ...

class PushMessages(_message.Message):
    __slots__ = ("msgs", "notificationMsgs")
    class MsgsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: PullMsgs
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[PullMsgs, _Mapping]] = ...) -> None: ...
    class NotificationMsgsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: PullMsgs
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[PullMsgs, _Mapping]] = ...) -> None: ...
    MSGS_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATIONMSGS_FIELD_NUMBER: _ClassVar[int]
    msgs: _containers.MessageMap[str, PullMsgs]
    notificationMsgs: _containers.MessageMap[str, PullMsgs]
    def __init__(self, msgs: _Optional[_Mapping[str, PullMsgs]] = ..., notificationMsgs: _Optional[_Mapping[str, PullMsgs]] = ...) -> None: ...

class SeqRange(_message.Message):
    __slots__ = ("conversationID", "begin", "end", "num")
    CONVERSATIONID_FIELD_NUMBER: _ClassVar[int]
    BEGIN_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    NUM_FIELD_NUMBER: _ClassVar[int]
    conversationID: str
    begin: int
    end: int
    num: int
    def __init__(self, conversationID: _Optional[str] = ..., begin: _Optional[int] = ..., end: _Optional[int] = ..., num: _Optional[int] = ...) -> None: ...

class PullMessageBySeqsReq(_message.Message):
    __slots__ = ("userID", "seqRanges", "order")
    USERID_FIELD_NUMBER: _ClassVar[int]
    SEQRANGES_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    userID: str
    seqRanges: _containers.RepeatedCompositeFieldContainer[SeqRange]
    order: int
    def __init__(self, userID: _Optional[str] = ..., seqRanges: _Optional[_Iterable[_Union[SeqRange, _Mapping]]] = ..., order: _Optional[int] = ...) -> None: ...

class PullMessageBySeqsResp(_message.Message):
    __slots__ = ("msgs", "notificationMsgs")
    class MsgsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: PullMsgs
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[PullMsgs, _Mapping]] = ...) -> None: ...
    class NotificationMsgsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: PullMsgs
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[PullMsgs, _Mapping]] = ...) -> None: ...
    MSGS_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATIONMSGS_FIELD_NUMBER: _ClassVar[int]
    msgs: _containers.MessageMap[str, PullMsgs]
    notificationMsgs: _containers.MessageMap[str, PullMsgs]
    def __init__(self, msgs: _Optional[_Mapping[str, PullMsgs]] = ..., notificationMsgs: _Optional[_Mapping[str, PullMsgs]] = ...) -> None: ...

class GetMaxSeqReq(_message.Message):
    __slots__ = ("userID",)
    USERID_FIELD_NUMBER: _ClassVar[int]
    userID: str
    def __init__(self, userID: _Optional[str] = ...) -> None: ...

class GetMaxSeqResp(_message.Message):
    __slots__ = ("maxSeqs", "minSeqs")
    class MaxSeqsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class MinSeqsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    MAXSEQS_FIELD_NUMBER: _ClassVar[int]
    MINSEQS_FIELD_NUMBER: _ClassVar[int]
    maxSeqs: _containers.ScalarMap[str, int]
    minSeqs: _containers.ScalarMap[str, int]
    def __init__(self, maxSeqs: _Optional[_Mapping[str, int]] = ..., minSeqs: _Optional[_Mapping[str, int]] = ...) -> None: ...

class UserInfo(_message.Message):
    __slots__ = ("userID", "nickname", "faceURL", "ex", "createTime", "appMangerLevel", "globalRecvMsgOpt")
    USERID_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    FACEURL_FIELD_NUMBER: _ClassVar[int]
    EX_FIELD_NUMBER: _ClassVar[int]
    CREATETIME_FIELD_NUMBER: _ClassVar[int]
    APPMANGERLEVEL_FIELD_NUMBER: _ClassVar[int]
    GLOBALRECVMSGOPT_FIELD_NUMBER: _ClassVar[int]
    userID: str
    nickname: str
    faceURL: str
    ex: str
    createTime: int
    appMangerLevel: int
    globalRecvMsgOpt: int
    def __init__(self, userID: _Optional[str] = ..., nickname: _Optional[str] = ..., faceURL: _Optional[str] = ..., ex: _Optional[str] = ..., createTime: _Optional[int] = ..., appMangerLevel: _Optional[int] = ..., globalRecvMsgOpt: _Optional[int] = ...) -> None: ...

class GroupInfo(_message.Message):
    __slots__ = ("groupID", "groupName", "notification", "introduction", "faceURL", "ownerUserID", "createTime", "memberCount", "ex", "status", "creatorUserID", "groupType", "needVerification", "lookMemberInfo", "applyMemberFriend", "notificationUpdateTime", "notificationUserID", "displayIsRead")
    GROUPID_FIELD_NUMBER: _ClassVar[int]
    GROUPNAME_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    INTRODUCTION_FIELD_NUMBER: _ClassVar[int]
    FACEURL_FIELD_NUMBER: _ClassVar[int]
    OWNERUSERID_FIELD_NUMBER: _ClassVar[int]
    CREATETIME_FIELD_NUMBER: _ClassVar[int]
    MEMBERCOUNT_FIELD_NUMBER: _ClassVar[int]
    EX_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATORUSERID_FIELD_NUMBER: _ClassVar[int]
    GROUPTYPE_FIELD_NUMBER: _ClassVar[int]
    NEEDVERIFICATION_FIELD_NUMBER: _ClassVar[int]
    LOOKMEMBERINFO_FIELD_NUMBER: _ClassVar[int]
    APPLYMEMBERFRIEND_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATIONUPDATETIME_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATIONUSERID_FIELD_NUMBER: _ClassVar[int]
    DISPLAYISREAD_FIELD_NUMBER: _ClassVar[int]
    groupID: str
    groupName: str
    notification: str
    introduction: str
    faceURL: str
    ownerUserID: str
    createTime: int
    memberCount: int
    ex: str
    status: int
    creatorUserID: str
    groupType: int
    needVerification: int
    lookMemberInfo: int
    applyMemberFriend: int
    notificationUpdateTime: int
    notificationUserID: str
    displayIsRead: int
    def __init__(self, groupID: _Optional[str] = ..., groupName: _Optional[str] = ..., notification: _Optional[str] = ..., introduction: _Optional[str] = ..., faceURL: _Optional[str] = ..., ownerUserID: _Optional[str] = ..., createTime: _Optional[int] = ..., memberCount: _Optional[int] = ..., ex: _Optional[str] = ..., status: _Optional[int] = ..., creatorUserID: _Optional[str] = ..., groupType: _Optional[int] = ..., needVerification: _Optional[int] = ..., lookMemberInfo: _Optional[int] = ..., applyMemberFriend: _Optional[int] = ..., notificationUpdateTime: _Optional[int] = ..., notificationUserID: _Optional[str] = ..., displayIsRead: _Optional[int] = ...) -> None: ...

class FriendInfoOnly(_message.Message):
    __slots__ = ("ownerUserID", "friendUserID", "remark", "createTime", "addSource", "operatorUserID", "ex", "isPinned")
    OWNERUSERID_FIELD_NUMBER: _ClassVar[int]
    FRIENDUSERID_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    CREATETIME_FIELD_NUMBER: _ClassVar[int]
    ADDSOURCE_FIELD_NUMBER: _ClassVar[int]
    OPERATORUSERID_FIELD_NUMBER: _ClassVar[int]
    EX_FIELD_NUMBER: _ClassVar[int]
    ISPINNED_FIELD_NUMBER: _ClassVar[int]
    ownerUserID: str
    friendUserID: str
    remark: str
    createTime: int
    addSource: int
    operatorUserID: str
    ex: str
    isPinned: bool
    def __init__(self, ownerUserID: _Optional[str] = ..., friendUserID: _Optional[str] = ..., remark: _Optional[str] = ..., createTime: _Optional[int] = ..., addSource: _Optional[int] = ..., operatorUserID: _Optional[str] = ..., ex: _Optional[str] = ..., isPinned: _Optional[bool] = ...) -> None: ...

class SubUserOnlineStatus(_message.Message):
    __slots__ = ("subscribeUserID", "unsubscribeUserID")
    SUBSCRIBEUSERID_FIELD_NUMBER: _ClassVar[int]
    UNSUBSCRIBEUSERID_FIELD_NUMBER: _ClassVar[int]
    subscribeUserID: _containers.RepeatedScalarFieldContainer[str]
    unsubscribeUserID: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, subscribeUserID: _Optional[_Iterable[str]] = ..., unsubscribeUserID: _Optional[_Iterable[str]] = ...) -> None: ...

class SubUserOnlineStatusElem(_message.Message):
    __slots__ = ("userID", "onlinePlatformIDs")
    USERID_FIELD_NUMBER: _ClassVar[int]
    ONLINEPLATFORMIDS_FIELD_NUMBER: _ClassVar[int]
    userID: str
    onlinePlatformIDs: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, userID: _Optional[str] = ..., onlinePlatformIDs: _Optional[_Iterable[int]] = ...) -> None: ...

class SubUserOnlineStatusTips(_message.Message):
    __slots__ = ("subscribers",)
    SUBSCRIBERS_FIELD_NUMBER: _ClassVar[int]
    subscribers: _containers.RepeatedCompositeFieldContainer[SubUserOnlineStatusElem]
    def __init__(self, subscribers: _Optional[_Iterable[_Union[SubUserOnlineStatusElem, _Mapping]]] = ...) -> None: ...

class SendMsgResp(_message.Message):
    __slots__ = ("serverMsgID", "clientMsgID", "sendTime")
    SERVERMSGID_FIELD_NUMBER: _ClassVar[int]
    CLIENTMSGID_FIELD_NUMBER: _ClassVar[int]
    SENDTIME_FIELD_NUMBER: _ClassVar[int]
    serverMsgID: str
    clientMsgID: str
    sendTime: int
    def __init__(self, serverMsgID: _Optional[str] = ..., clientMsgID: _Optional[str] = ..., sendTime: _Optional[int] = ...) -> None: ...

class ConversationSeqs(_message.Message):
    __slots__ = ("conversationID", "seqs")
    CONVERSATIONID_FIELD_NUMBER: _ClassVar[int]
    SEQS_FIELD_NUMBER: _ClassVar[int]
    conversationID: str
    seqs: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, conversationID: _Optional[str] = ..., seqs: _Optional[_Iterable[int]] = ...) -> None: ...

class GetSeqMessageReq(_message.Message):
    __slots__ = ("userID", "conversations", "order")
    USERID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATIONS_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    userID: str
    conversations: _containers.RepeatedCompositeFieldContainer[ConversationSeqs]
    order: int
    def __init__(self, userID: _Optional[str] = ..., conversations: _Optional[_Iterable[_Union[ConversationSeqs, _Mapping]]] = ..., order: _Optional[int] = ...) -> None: ...

class GetSeqMessageResp(_message.Message):
    __slots__ = ("msgs", "notificationMsgs")
    class MsgsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: PullMsgs
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[PullMsgs, _Mapping]] = ...) -> None: ...
    class NotificationMsgsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: PullMsgs
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[PullMsgs, _Mapping]] = ...) -> None: ...
    MSGS_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATIONMSGS_FIELD_NUMBER: _ClassVar[int]
    msgs: _containers.MessageMap[str, PullMsgs]
    notificationMsgs: _containers.MessageMap[str, PullMsgs]
    def __init__(self, msgs: _Optional[_Mapping[str, PullMsgs]] = ..., notificationMsgs: _Optional[_Mapping[str, PullMsgs]] = ...) -> None: ...

class GetConversationsHasReadAndMaxSeqReq(_message.Message):
    __slots__ = ("userID", "conversationIDs")
    USERID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATIONIDS_FIELD_NUMBER: _ClassVar[int]
    userID: str
    conversationIDs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, userID: _Optional[str] = ..., conversationIDs: _Optional[_Iterable[str]] = ...) -> None: ...

class Seqs(_message.Message):
    __slots__ = ("maxSeq", "hasReadSeq", "maxSeqTime")
    MAXSEQ_FIELD_NUMBER: _ClassVar[int]
    HASREADSEQ_FIELD_NUMBER: _ClassVar[int]
    MAXSEQTIME_FIELD_NUMBER: _ClassVar[int]
    maxSeq: int
    hasReadSeq: int
    maxSeqTime: int
    def __init__(self, maxSeq: _Optional[int] = ..., hasReadSeq: _Optional[int] = ..., maxSeqTime: _Optional[int] = ...) -> None: ...

class GetConversationsHasReadAndMaxSeqResp(_message.Message):
    __slots__ = ("seqs",)
    class SeqsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Seqs
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Seqs, _Mapping]] = ...) -> None: ...
    SEQS_FIELD_NUMBER: _ClassVar[int]
    seqs: _containers.MessageMap[str, Seqs]
    def __init__(self, seqs: _Optional[_Mapping[str, Seqs]] = ...) -> None: ...

class Conversation(_message.Message):
    __slots__ = ("ownerUserID", "conversationID", "recvMsgOpt", "conversationType", "userID", "groupID", "isPinned", "attachedInfo", "isPrivateChat", "groupAtType", "ex", "burnDuration", "minSeq", "maxSeq", "msgDestructTime", "latestMsgDestructTime", "isMsgDestruct")
    OWNERUSERID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATIONID_FIELD_NUMBER: _ClassVar[int]
    RECVMSGOPT_FIELD_NUMBER: _ClassVar[int]
    CONVERSATIONTYPE_FIELD_NUMBER: _ClassVar[int]
    USERID_FIELD_NUMBER: _ClassVar[int]
    GROUPID_FIELD_NUMBER: _ClassVar[int]
    ISPINNED_FIELD_NUMBER: _ClassVar[int]
    ATTACHEDINFO_FIELD_NUMBER: _ClassVar[int]
    ISPRIVATECHAT_FIELD_NUMBER: _ClassVar[int]
    GROUPATTYPE_FIELD_NUMBER: _ClassVar[int]
    EX_FIELD_NUMBER: _ClassVar[int]
    BURNDURATION_FIELD_NUMBER: _ClassVar[int]
    MINSEQ_FIELD_NUMBER: _ClassVar[int]
    MAXSEQ_FIELD_NUMBER: _ClassVar[int]
    MSGDESTRUCTTIME_FIELD_NUMBER: _ClassVar[int]
    LATESTMSGDESTRUCTTIME_FIELD_NUMBER: _ClassVar[int]
    ISMSGDESTRUCT_FIELD_NUMBER: _ClassVar[int]
    ownerUserID: str
    conversationID: str
    recvMsgOpt: int
    conversationType: int
    userID: str
    groupID: str
    isPinned: bool
    attachedInfo: str
    isPrivateChat: bool
    groupAtType: int
    ex: str
    burnDuration: int
    minSeq: int
    maxSeq: int
    msgDestructTime: int
    latestMsgDestructTime: int
    isMsgDestruct: bool
    def __init__(self, ownerUserID: _Optional[str] = ..., conversationID: _Optional[str] = ..., recvMsgOpt: _Optional[int] = ..., conversationType: _Optional[int] = ..., userID: _Optional[str] = ..., groupID: _Optional[str] = ..., isPinned: _Optional[bool] = ..., attachedInfo: _Optional[str] = ..., isPrivateChat: _Optional[bool] = ..., groupAtType: _Optional[int] = ..., ex: _Optional[str] = ..., burnDuration: _Optional[int] = ..., minSeq: _Optional[int] = ..., maxSeq: _Optional[int] = ..., msgDestructTime: _Optional[int] = ..., latestMsgDestructTime: _Optional[int] = ..., isMsgDestruct: _Optional[bool] = ...) -> None: ...

class ConversationMsg(_message.Message):
    __slots__ = ("conversation", "lastMsg", "user", "friend", "group", "maxSeq", "readSeq")
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    LASTMSG_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    FRIEND_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    MAXSEQ_FIELD_NUMBER: _ClassVar[int]
    READSEQ_FIELD_NUMBER: _ClassVar[int]
    conversation: Conversation
    lastMsg: MsgData
    user: UserInfo
    friend: FriendInfoOnly
    group: GroupInfo
    maxSeq: int
    readSeq: int
    def __init__(self, conversation: _Optional[_Union[Conversation, _Mapping]] = ..., lastMsg: _Optional[_Union[MsgData, _Mapping]] = ..., user: _Optional[_Union[UserInfo, _Mapping]] = ..., friend: _Optional[_Union[FriendInfoOnly, _Mapping]] = ..., group: _Optional[_Union[GroupInfo, _Mapping]] = ..., maxSeq: _Optional[int] = ..., readSeq: _Optional[int] = ...) -> None: ...

class GetActiveConversationsReq(_message.Message):
    __slots__ = ("ownerUserID", "count")
    OWNERUSERID_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    ownerUserID: str
    count: int
    def __init__(self, ownerUserID: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class GetConversationsReq(_message.Message):
    __slots__ = ("ownerUserID", "conversationIDs")
    OWNERUSERID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATIONIDS_FIELD_NUMBER: _ClassVar[int]
    ownerUserID: str
    conversationIDs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ownerUserID: _Optional[str] = ..., conversationIDs: _Optional[_Iterable[str]] = ...) -> None: ...

class GetConversationsResp(_message.Message):
    __slots__ = ("unreadCount", "conversations")
    UNREADCOUNT_FIELD_NUMBER: _ClassVar[int]
    CONVERSATIONS_FIELD_NUMBER: _ClassVar[int]
    unreadCount: int
    conversations: _containers.RepeatedCompositeFieldContainer[ConversationMsg]
    def __init__(self, unreadCount: _Optional[int] = ..., conversations: _Optional[_Iterable[_Union[ConversationMsg, _Mapping]]] = ...) -> None: ...
