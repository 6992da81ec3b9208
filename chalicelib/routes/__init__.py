"""Every route by which S3 events reach the function, each turned into the same `ObjectRef`s.

Direct S3 notifications are read by `chalicelib.routes.notifications`; the other modules add
S3 notifications queued in SQS (`sqs`), EventBridge "Object Created" events (`eventbridge`) and
S3 Batch Operations tasks (`batch_operations`), and what each route answers (`handlers`).
"""
