"""imclient: the Python client SDK of imserver.

    async with imclient.Client("http://127.0.0.1:8000", token) as client:
        await client.sync()
        msg = await client.send_text(to_user_id="bob", text="hi")
        async for event in client.events():
            ...
"""

from imclient.client import Client, EventStream
from imclient.errors import AuthError, ClientClosed, ConnectionLost, IMError, KickedError, RequestTimeout
from imclient.models import (
    ConnectionState,
    Conversation,
    ConversationChanged,
    Event,
    Kicked,
    Message,
    MessageDeleted,
    MessageReceived,
    MessageRevoked,
    Notification,
    PresenceChanged,
    ReadByPeer,
    SyncFinished,
    Typing,
)
from imclient.network import Backoff
from imclient.storage import Store, StoreError

__all__ = [
    "AuthError", "Backoff", "Client", "ClientClosed", "ConnectionLost", "ConnectionState", "Conversation",
    "ConversationChanged", "Event", "EventStream", "IMError", "Kicked", "KickedError", "Message", "MessageDeleted",
    "MessageReceived", "MessageRevoked", "Notification", "PresenceChanged", "ReadByPeer", "RequestTimeout", "Store",
    "StoreError", "SyncFinished", "Typing",
]
