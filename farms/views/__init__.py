"""Farm pages: the farmer's dashboard and forms, officials' verification, public trace pages.

`farmer` holds the household and listings, `records` certificates and harvest lots,
`official` the verification queues, `trace` the public trace pages and their QR codes.
"""
