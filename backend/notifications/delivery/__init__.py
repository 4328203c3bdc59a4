"""Delivering notifications beyond the bell: e-mail, SMS, WeCom and DingTalk group robots (issue #19).

`channels.py` is the port (`DeliveryChannel`) and its drivers; `service.py` plans a delivery row per channel the
person chose, in the notification's transaction, and performs one (called by the Temporal activity in
workflows/notifications/); `preferences.py` is the person's choice, `settings.py` the county's channel settings.
"""
