"""Membership billing: Stripe Checkout, the Customer Portal, webhooks and drift repair.

Without STRIPE_SECRET_KEY the site runs in manual billing mode and nothing here talks to Stripe.
"""
