"""Responsibility agreements (责任书、合同、双向服务管理协议书): records with parties and validity, the signed scan
attached once and locked, renewals (续签) linked to the agreement they renew."""
