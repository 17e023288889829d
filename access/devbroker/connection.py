"""One client's connection to the development broker: reads its MQTT v5 packets and acts on them."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING

from paho.mqtt.properties import Properties

from access.devbroker import packets
from access.devbroker.packets import Fields, MalformedPacketError, PacketTypes
from access.devbroker.sessions import Message, Session, Subscription
from access.devbroker.topics import parse_filter, topic_matches, valid_topic_name

if TYPE_CHECKING:
    from access.devbroker.broker import DevBroker

log = logging.getLogger("access.devbroker")
CONNECT_TIMEOUT_SECONDS = 10.0

# Reason codes (MQTT v5, 2.4).
SUCCESS = 0x00
DISCONNECT_WITH_WILL = 0x04
NO_SUBSCRIPTION_EXISTED = 0x11
MALFORMED = 0x81
PROTOCOL_ERROR = 0x82
UNSUPPORTED_VERSION = 0x84
SERVER_SHUTTING_DOWN = 0x8B
KEEPALIVE_TIMEOUT = 0x8D
SESSION_TAKEN_OVER = 0x8E
TOPIC_FILTER_INVALID = 0x8F
TOPIC_NAME_INVALID = 0x90
TOPIC_ALIAS_INVALID = 0x94
QOS_NOT_SUPPORTED = 0x9B


class Refused(Exception):
    """A packet the broker will not take: it says why (a reason code) and closes the connection."""

    def __init__(self, reason: int, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class Connection:
    """One client's TCP connection: reads its packets and acts on them in order."""

    def __init__(
        self, broker: DevBroker, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.broker, self.reader, self.writer = broker, reader, writer
        host, port = writer.get_extra_info("peername")[:2]
        self.peer = f"{host}:{port}"
        self.session: Session | None = None
        self.will: Message | None = None
        self.keepalive = 0

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    def close(self, reason: int) -> None:
        """Say why (once connected) and hang up; the read loop then ends."""
        if self.session is not None:
            self.send(packets.disconnect(reason))
        self.writer.close()

    def publish_will(self) -> None:
        will, self.will = self.will, None
        if will is not None and not self.broker.closing:
            self.broker.route(will, sender=None)

    async def serve(self) -> None:
        try:
            first = await asyncio.wait_for(
                packets.read_packet(self.reader), CONNECT_TIMEOUT_SECONDS
            )
            if first.kind != PacketTypes.CONNECT:
                raise MalformedPacketError("the first packet is not CONNECT")
            if not self._connect(first):
                return
            while True:
                timeout = self.keepalive * 1.5 if self.keepalive else None
                packet = await asyncio.wait_for(packets.read_packet(self.reader), timeout)
                if not self._handle(packet):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            log.debug("%s hung up", self.peer)
        except TimeoutError:
            log.info("%s went silent past its keepalive; closing", self.peer)
            self.close(KEEPALIVE_TIMEOUT)
        except MalformedPacketError as error:
            log.warning("Malformed packet from %s (%s); closing", self.peer, error)
            self.close(MALFORMED)
        except Refused as error:
            log.warning("Refused a packet from %s (%s); closing", self.peer, error)
            self.close(error.reason)
        except Exception:
            # A bug here must cost one connection, never the broker: logged, then hung up.
            log.exception("Error serving %s; closing its connection", self.peer)
            self.close(PROTOCOL_ERROR)
        finally:
            self.publish_will()
            self.broker.detach(self)
            self.writer.close()

    def _connect(self, packet: packets.Packet) -> bool:
        fields = Fields(packet.body)
        if fields.text() != "MQTT":
            raise MalformedPacketError("not an MQTT CONNECT")
        version = fields.byte()
        if version != 5:
            log.warning("%s speaks MQTT protocol level %d; only 5 is served", self.peer, version)
            self.send(
                packets.CONNACK_V311_BAD_VERSION
                if version in (3, 4)
                else packets.connack(session_present=False, reason=UNSUPPORTED_VERSION)
            )
            return False
        flags = fields.byte()
        if flags & 0x01 or (not flags & 0x04 and flags & 0x38):
            raise MalformedPacketError(f"invalid CONNECT flags {flags:#010b}")
        self.keepalive = fields.u16()
        properties = fields.properties(PacketTypes.CONNECT)
        client_id = fields.text()
        if flags & 0x04:
            will_properties = fields.properties(PacketTypes.WILLMESSAGE)
            topic, payload, qos = fields.text(), fields.binary(), (flags >> 3) & 0b11
            if qos > 1:
                raise Refused(QOS_NOT_SUPPORTED, f"will at QoS {qos}")
            if not valid_topic_name(topic):
                raise Refused(TOPIC_NAME_INVALID, f"will topic {topic[:80]!r}")
            self.will = Message(
                topic,
                payload,
                qos,
                bool(flags & 0x20),
                packets.forwarded_properties(will_properties),
            )
        if flags & 0x80:
            fields.text()  # user name: no authentication here
        if flags & 0x40:
            fields.binary()  # password: likewise
        fields.end()
        reply = Properties(PacketTypes.CONNACK)
        reply.MaximumQoS = 1
        reply.SharedSubscriptionAvailable = 1
        reply.WildcardSubscriptionAvailable = 1
        reply.SubscriptionIdentifierAvailable = 0
        if not client_id:
            client_id = reply.AssignedClientIdentifier = f"devbroker-{uuid.uuid4().hex[:12]}"
        self.session, present = self.broker.attach(
            self,
            client_id,
            clean_start=bool(flags & 0x02),
            expiry=getattr(properties, "SessionExpiryInterval", 0),
        )
        self.send(packets.connack(session_present=present, reason=SUCCESS, properties=reply))
        log.debug("%s connected as %s (session present: %s)", self.peer, client_id, present)
        self.session.resume()
        return True

    def _handle(self, packet: packets.Packet) -> bool:
        """Act on one packet after CONNECT; False once the client said goodbye."""
        assert self.session is not None
        fields = Fields(packet.body)
        if packet.kind == PacketTypes.PUBLISH:
            self._publish(packet.flags, fields)
        elif packet.kind == PacketTypes.PUBACK:
            self.session.inflight.pop(fields.u16(), None)
        elif packet.kind == PacketTypes.SUBSCRIBE:
            self._subscribe(fields)
        elif packet.kind == PacketTypes.UNSUBSCRIBE:
            packet_id = fields.u16()
            fields.properties(PacketTypes.UNSUBSCRIBE)
            reasons = []
            while fields.left:
                found = self.session.subscriptions.pop(fields.text(), None)
                reasons.append(SUCCESS if found else NO_SUBSCRIPTION_EXISTED)
            self.send(packets.ack(PacketTypes.UNSUBACK, packet_id, reasons))
        elif packet.kind == PacketTypes.PINGREQ:
            self.send(packets.PINGRESP)
        elif packet.kind == PacketTypes.DISCONNECT:
            reason = fields.byte() if fields.left else SUCCESS
            if fields.left:
                properties = fields.properties(PacketTypes.DISCONNECT)
                if self.session.expiry and hasattr(properties, "SessionExpiryInterval"):
                    self.session.expiry = properties.SessionExpiryInterval
            if reason != DISCONNECT_WITH_WILL:
                self.will = None  # a clean goodbye: the last will is not published
            return False
        else:
            # QoS 2 flows, AUTH, a second CONNECT or a server-to-client packet type.
            raise Refused(PROTOCOL_ERROR, f"unexpected packet type {packet.kind}")
        return True

    def _publish(self, flags: int, fields: Fields) -> None:
        qos, retain = (flags >> 1) & 0b11, bool(flags & 0x01)
        if qos > 1:
            raise Refused(QOS_NOT_SUPPORTED, f"PUBLISH at QoS {qos}")
        topic = fields.text()
        packet_id = fields.u16() if qos else None
        properties = fields.properties(PacketTypes.PUBLISH)
        if hasattr(properties, "TopicAlias"):
            raise Refused(TOPIC_ALIAS_INVALID, "topic aliases are not offered")
        if not valid_topic_name(topic):
            raise Refused(TOPIC_NAME_INVALID, f"topic {topic[:80]!r}")
        message = Message(
            topic, fields.rest(), qos, retain, packets.forwarded_properties(properties)
        )
        self.broker.route(message, sender=self.session)
        if packet_id is not None:
            self.send(packets.ack(PacketTypes.PUBACK, packet_id))

    def _subscribe(self, fields: Fields) -> None:
        assert self.session is not None
        packet_id = fields.u16()
        fields.properties(PacketTypes.SUBSCRIBE)
        if not fields.left:
            raise MalformedPacketError("SUBSCRIBE without a topic filter")
        reasons, wants_retained = [], []
        while fields.left:
            text, options = fields.text(), fields.byte()
            if options & 0b1100_0000 or options & 0b11 == 0b11 or options >> 4 & 0b11 == 0b11:
                raise MalformedPacketError(f"invalid subscription options {options:#010b}")
            try:
                group, topic_filter = parse_filter(text)
            except ValueError as error:
                log.info("%s: %s", self.peer, error)
                reasons.append(TOPIC_FILTER_INVALID)
                continue
            subscription = Subscription(
                topic_filter,
                qos=min(options & 0b11, 1),  # QoS 2 is granted as QoS 1
                group=group,
                no_local=bool(options & 0b0100),
                retain_as_published=bool(options & 0b1000),
            )
            is_new = text not in self.session.subscriptions
            self.session.subscriptions[text] = subscription
            reasons.append(subscription.qos)
            retain_handling = options >> 4 & 0b11
            # Retained messages never go to shared subscriptions (MQTT v5, 4.8.2).
            if group is None and (retain_handling == 0 or (retain_handling == 1 and is_new)):
                wants_retained.append(subscription)
        self.send(packets.ack(PacketTypes.SUBACK, packet_id, reasons))
        for subscription in wants_retained:
            for topic, message in list(self.broker.retained.items()):
                if topic_matches(subscription.topic_filter, topic):
                    self.session.deliver(subscription.delivered(message, retained=True))
