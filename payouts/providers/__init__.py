"""Payment providers the payouts app talks to (Stripe Connect); PayPal and bank transfers go through CSV files."""
