#!/usr/bin/env python3
"""A TCP proxy in front of a real server that breaks the first connections,
for tests of what a client does when a transfer fails and the server is
still there. MODE cut: the first CUTS connections are closed after BYTES
bytes of the server's answer; MODE 503: the first CUTS requests are answered
503 SlowDown by the proxy itself. Later connections pass whole. The request
head of each connection (request line and headers, without Authorization)
goes to LOG, with "503" or "cut" in front when it was broken.

usage: cutproxy.py UPSTREAM_PORT MODE CUTS BYTES LOG
Prints the port it listens on (127.0.0.1) and serves until killed."""
import asyncio
import sys

UP, MODE, CUTS, LIMIT, LOG = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                              int(sys.argv[4]), sys.argv[5])
SLOWDOWN = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
            b"<Message>Please reduce your request rate.</Message></Error>")
count = 0


def log(head_bytes, tag):
    lines = head_bytes.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    with open(LOG, "a") as f:
        f.write(tag + " | ".join(l for l in lines if not l.lower().startswith("authorization")) + "\n")


async def pipe(reader, writer, limit=None, head=None, tag=""):
    sent = 0
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if head is not None and not head.get("done"):
                head["buf"] = head.get("buf", b"") + data
                if b"\r\n\r\n" in head["buf"]:
                    head["done"] = True
                    log(head["buf"], tag)
            if limit is not None and sent + len(data) > limit:
                writer.write(data[: limit - sent])
                await writer.drain()
                return True
            writer.write(data)
            await writer.drain()
            sent += len(data)
    except (ConnectionError, asyncio.CancelledError):
        pass
    return False


async def handle(creader, cwriter):
    global count
    count += 1
    broken = count <= CUTS
    if broken and MODE == "503":
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = await creader.read(65536)
            if not data:
                break
            buf += data
        log(buf, "503 ")
        cwriter.write(b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                      b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(SLOWDOWN) + SLOWDOWN)
        await cwriter.drain()
        cwriter.close()
        return
    limit = LIMIT if broken else None
    ureader, uwriter = await asyncio.open_connection("127.0.0.1", UP)
    up = asyncio.ensure_future(pipe(creader, uwriter, head={}, tag="cut " if broken else ""))
    down = asyncio.ensure_future(pipe(ureader, cwriter, limit))
    await down
    up.cancel()
    for w in (uwriter, cwriter):
        w.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
