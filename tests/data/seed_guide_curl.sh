# The "Manage client sessions" guide's two calls in the guide's form: no Content-Type header,
# so curl declares application/x-www-form-urlencoded. The create body is the guide's example
# request (seed_guide_example.json). tests/test_seed_guide_curl.py substitutes the sandbox's
# URL for https://api.sandbox.primer.io, its key for <YOUR_API_KEY> and the created session's
# token for <CLIENT_TOKEN>, then runs each command with bash.

curl --location --request POST 'https://api.sandbox.primer.io/client-session' \
--header 'X-Api-Key: <YOUR_API_KEY>' \
--header 'X-Api-Version: 2.1' \
--data '{
    "orderId": "order-123",
    "currencyCode": "GBP",
    "amount": 4999,
    "order": {
        "lineItems": [{
            "itemId": "shoe-123",
            "description": "Blue Shoe",
            "amount": 2500,
            "quantity": 2
        }]
    },
    "customerId": "customer-123",
    "customer": {
        "emailAddress": "john@example.com"
    },
    "metadata": {
        "productType": "Shoes"
    }
}'

curl --location --request PATCH 'https://api.sandbox.primer.io/client-session' \
--header 'X-Api-Key: <YOUR_API_KEY>' \
--header 'X-Api-Version: 2.1' \
--data '{
    "clientToken": "<CLIENT_TOKEN>",
    "customer": {
        "emailAddress": "john.doe@example.com"
    }
}'
