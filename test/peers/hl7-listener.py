#!/usr/bin/env python3
"""A real MLLP listener for the hl7-mllp plugin's tests: python-hl7's asyncio MLLP server
(hl7.mllp.start_hl7_server, Debian python3-hl7) answering each message with the library's
own ACK (Message.create_ack). The receiving application (MSH-5) of a message chooses the
answer, so that one listener serves every case of a spec:

  ACK_AE   -> AE, with MSA-3 and an ERR segment (v2.5: ERR-3 code^text, ERR-8 user message)
  ACK_AR   -> AR, with an ERR segment (ERR-3 only: the error condition code 200)
  SILENT   -> no answer at all (the connection stays open)
  WRONG_ID -> AA for another control ID than the message's MSH-10
  anything else -> AA

Usage: hl7-listener.py PORT_FILE [--tls CERT KEY]. It listens on an ephemeral port of
127.0.0.1 and then writes that port to PORT_FILE.
"""
import asyncio
import os
import ssl
import sys

import hl7
from hl7.mllp import start_hl7_server


def answer(message):
    receiver = str(message.segment("MSH")(5))
    if receiver == "SILENT":
        return None
    if receiver == "ACK_AE":
        ack = message.create_ack("AE")
        ack.segment("MSA").assign_field("Patient not found", 3)
        return hl7.parse(str(ack).rstrip("\r") + "\rERR|||204^Unknown key identifier^HL70357|E||||No patient with this PID in ADT")
    if receiver == "ACK_AR":
        return hl7.parse(str(message.create_ack("AR")).rstrip("\r") + "\rERR|||200^^HL70357|E")
    ack = message.create_ack("AA")
    if receiver == "WRONG_ID":
        ack.segment("MSA").assign_field("NOT-" + str(message.segment("MSH")(10)), 2)
    return ack


async def serve(reader, writer):
    try:
        while not writer.is_closing():
            reply = answer(await reader.readmessage())
            if reply is not None:
                writer.writemessage(reply)
                await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    port_file, options = sys.argv[1], sys.argv[2:]
    context = None
    if len(options) == 3 and options[0] == "--tls":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(options[1], options[2])
    server = await start_hl7_server(serve, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    # Written whole under another name first: the test reads the file as soon as it exists.
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(port_file + ".tmp", port_file)
    print("listening on", port, flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
