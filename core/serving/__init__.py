"""A resident predict server: `graftzoo serve` keeps torch, torchvision and loaded heads in memory,
and `graftzoo predict` hands it its request over a Unix socket instead of importing them again.

`protocol` holds the socket's place and the message format, `server` the serving loop, `client`
what `graftzoo predict` and `graftzoo serve --stop/--status` send. Nothing here imports torch.
"""
