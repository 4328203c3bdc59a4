"""County settings of the accountable procedures (县级配置): one document per county, defaults until it is set."""
