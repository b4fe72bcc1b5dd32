"""One service per endpoint and protocol; an account asked for only where it is needed."""
from __future__ import annotations

import pytest

from full_maja.auth import ApiKey, EndpointAuth
from full_maja.errors import NoAccountError
from full_maja.jobrecord import JobRecord
from full_maja.service import CatalogueService, OgcApiService, WpsService
from full_maja.service.registry import ServiceRegistry
from full_maja.session import make_session
from full_maja.states import Protocol

PROCESSING = "https://processing.example/wps"
CATALOGUE = "https://catalogue.example/api/stac"
MISSING = NoAccountError("no account given for processing.example")


def registry(api_key=None, no_account=MISSING):
    account = EndpointAuth(PROCESSING, None, api_key)
    return ServiceRegistry(make_session(account), account, no_account), account


@pytest.mark.parametrize("protocol", [Protocol.WPS, Protocol.OGCAPI, None])
def test_without_an_account_a_processing_service_is_refused_with_the_accounts_error(protocol):
    services, _ = registry()
    with pytest.raises(NoAccountError) as caught:
        if protocol is None:
            services.require_account(None)
        else:
            services.at(PROCESSING, protocol)
    assert caught.value is MISSING


def test_without_an_account_a_catalogue_searches_and_only_its_origin_gets_the_key():
    services, account = registry(ApiKey("k" * 12))
    assert isinstance(services.at(CATALOGUE, Protocol.CATALOGUE), CatalogueService)
    assert account.applies_to(CATALOGUE + "/search")
    assert not account.applies_to("https://storage.example/x.zip")


def test_an_api_key_is_an_account_for_a_processing_service():
    services, _ = registry(ApiKey("k" * 12))
    assert isinstance(services.at(PROCESSING, Protocol.OGCAPI), OgcApiService)


def test_one_service_per_endpoint_and_protocol_and_a_job_gets_the_one_it_was_sent_to():
    services, _ = registry(no_account=None)
    first = services.at(PROCESSING, Protocol.WPS)
    assert services.at(PROCESSING, Protocol.WPS) is first
    assert services.at(PROCESSING, Protocol.OGCAPI) is not first
    old_log_job = JobRecord(tile="31TCJ", job_id="1", status_url=PROCESSING + "?id=1")
    assert isinstance(services.of_job(old_log_job, PROCESSING), WpsService)
    assert services.of_job(old_log_job, PROCESSING) is first
