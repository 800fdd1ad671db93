"""The advertiser's conversion page with the conversion's commissions: tracking's page (fraud signals, refund),
routed from here because commissions sit above tracking."""

from tracking.advertiser_views import ConversionDetailView

from . import selectors


class ConversionCommissionsView(ConversionDetailView):
    def commissions_of(self, conversion):
        return selectors.commissions_of_conversion(network=self.network, conversion=conversion)
