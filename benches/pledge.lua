-- wrk script: POST a JSON pledge (benches/run).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"project":"cafe-du-coin","amount":"10","email":"bench@example.org","lang":"fr"}'
