"""The yardstick for the webhook benchmark: a bare Flask app that takes the same
form and answers TwiML, with no signature check, database or logging.

``gunicorn bench.bare_twiml:app``
"""

from flask import Flask, Response, request

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    "<Response><Message>Thanks, we got your message. A coordinator will answer soon.</Message></Response>"
)

app = Flask(__name__)


@app.post("/sms/inbound")
def inbound():
    request.form.get("Body")  # parse the form, as any webhook must
    return Response(TWIML, mimetype="text/xml")
