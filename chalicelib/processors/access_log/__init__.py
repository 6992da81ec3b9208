"""Access-log aggregation: stream a log object, parse its lines, total them per UTC hour."""
