"""The partner agent: check, minimise, pseudonymise and seal an extract on the partner's machine."""
