"""One set of Kafka settings, spelled for each client library."""

import ssl

from metrology.eventkit.kafka import KafkaConnection

SCRAM = KafkaConnection(
    bootstrap_servers="k1:9093,k2:9093",
    security_protocol="SASL_SSL",
    sasl_mechanism="SCRAM-SHA-512",
    sasl_username="registry",
    sasl_password="s3cret",
)


def test_aiokafka_gets_sasl_options_and_a_tls_context():
    options = SCRAM.client_options("aiokafka")
    assert options["bootstrap_servers"] == "k1:9093,k2:9093"
    assert (options["sasl_mechanism"], options["sasl_plain_username"]) == ("SCRAM-SHA-512", "registry")
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_kafka_python_gets_a_list_of_servers_and_the_same_credentials():
    options = SCRAM.client_options("kafka-python")
    assert options["bootstrap_servers"] == ["k1:9093", "k2:9093"]
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_plain_password"] == "s3cret"


def test_faststream_gets_a_security_object_carrying_the_credentials():
    security = SCRAM.client_options("faststream")["security"]
    assert type(security).__name__ == "SASLScram512"
    assert security.username == "registry" and security.ssl_context is not None


def test_plaintext_needs_no_security_at_all():
    assert KafkaConnection().client_options("faststream")["security"] is None
    assert "ssl_context" not in KafkaConnection().client_options("aiokafka")


def test_librdkafka_gets_dotted_names_and_the_same_credentials():
    options = SCRAM.client_options("librdkafka")
    assert options["bootstrap.servers"] == "k1:9093,k2:9093"
    assert options["security.protocol"] == "sasl_ssl"
    assert (options["sasl.mechanism"], options["sasl.username"], options["sasl.password"]) == (
        "SCRAM-SHA-512",
        "registry",
        "s3cret",
    )


def test_librdkafka_reads_the_certificate_authority_from_the_file_given():
    tls = KafkaConnection(security_protocol="SSL", ssl_cafile="/etc/kafka/ca.pem")
    assert tls.client_options("librdkafka")["ssl.ca.location"] == "/etc/kafka/ca.pem"
    assert "sasl.mechanism" not in tls.client_options("librdkafka")
