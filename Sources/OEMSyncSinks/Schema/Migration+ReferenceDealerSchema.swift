extension Migration {
    /// The reference dealer schema: vehicles, stock, sales orders, customers, keyed by their natural
    /// keys (domain notes §4.1). Every table carries `oemsync_batch_id` (the batch that last changed
    /// the row, and so its OEM file, mapping and dictionary versions) and `oemsync_synced_at`.
    static let referenceDealerSchema = Migration(
        name: "0002-reference-dealer-schema",
        sqlite: """
            CREATE TABLE vehicles (
                vin TEXT PRIMARY KEY,
                oem_code TEXT,
                make_code TEXT,
                model_code TEXT,
                model_year INTEGER,
                ext_color_code TEXT,
                int_color_code TEXT,
                engine_no TEXT,
                plant_code TEXT,
                certificate_no TEXT,
                production_date DATE,
                oemsync_batch_id INTEGER,
                oemsync_synced_at TIMESTAMP
            );
            CREATE TABLE stock (
                dealer_code TEXT NOT NULL,
                vin TEXT NOT NULL,
                stock_no TEXT,
                status TEXT,
                model_code TEXT,
                ext_color_code TEXT,
                int_color_code TEXT,
                stock_in_date DATE,
                list_price NUMERIC(14, 2),
                location TEXT,
                contact_phone TEXT,
                oemsync_batch_id INTEGER,
                oemsync_synced_at TIMESTAMP,
                PRIMARY KEY (dealer_code, vin)
            );
            CREATE TABLE sales_orders (
                dealer_code TEXT NOT NULL,
                order_no TEXT NOT NULL,
                oem_order_no TEXT,
                vin TEXT,
                model_code TEXT,
                customer_oem_id TEXT,
                customer_name TEXT,
                customer_phone TEXT,
                order_date DATE,
                delivery_date DATE,
                status TEXT,
                total_price NUMERIC(14, 2),
                currency TEXT,
                salesperson TEXT,
                updated_at TIMESTAMP,
                oemsync_batch_id INTEGER,
                oemsync_synced_at TIMESTAMP,
                PRIMARY KEY (dealer_code, order_no)
            );
            CREATE TABLE customers (
                oem_code TEXT NOT NULL,
                oem_customer_id TEXT NOT NULL,
                name TEXT,
                phone TEXT,
                email TEXT,
                province TEXT,
                city TEXT,
                gender TEXT,
                birth_date DATE,
                is_company BOOLEAN,
                oemsync_batch_id INTEGER,
                oemsync_synced_at TIMESTAMP,
                PRIMARY KEY (oem_code, oem_customer_id)
            );
            CREATE INDEX customers_phone ON customers (phone);
            """,
        postgres: """
            CREATE TABLE vehicles (
                vin TEXT PRIMARY KEY,
                oem_code TEXT,
                make_code TEXT,
                model_code TEXT,
                model_year INTEGER,
                ext_color_code TEXT,
                int_color_code TEXT,
                engine_no TEXT,
                plant_code TEXT,
                certificate_no TEXT,
                production_date DATE,
                oemsync_batch_id BIGINT,
                oemsync_synced_at TIMESTAMPTZ
            );
            CREATE TABLE stock (
                dealer_code TEXT NOT NULL,
                vin TEXT NOT NULL,
                stock_no TEXT,
                status TEXT,
                model_code TEXT,
                ext_color_code TEXT,
                int_color_code TEXT,
                stock_in_date DATE,
                list_price NUMERIC(14, 2),
                location TEXT,
                contact_phone TEXT,
                oemsync_batch_id BIGINT,
                oemsync_synced_at TIMESTAMPTZ,
                PRIMARY KEY (dealer_code, vin)
            );
            CREATE TABLE sales_orders (
                dealer_code TEXT NOT NULL,
                order_no TEXT NOT NULL,
                oem_order_no TEXT,
                vin TEXT,
                model_code TEXT,
                customer_oem_id TEXT,
                customer_name TEXT,
                customer_phone TEXT,
                order_date DATE,
                delivery_date DATE,
                status TEXT,
                total_price NUMERIC(14, 2),
                currency TEXT,
                salesperson TEXT,
                updated_at TIMESTAMPTZ,
                oemsync_batch_id BIGINT,
                oemsync_synced_at TIMESTAMPTZ,
                PRIMARY KEY (dealer_code, order_no)
            );
            CREATE TABLE customers (
                oem_code TEXT NOT NULL,
                oem_customer_id TEXT NOT NULL,
                name TEXT,
                phone TEXT,
                email TEXT,
                province TEXT,
                city TEXT,
                gender TEXT,
                birth_date DATE,
                is_company BOOLEAN,
                oemsync_batch_id BIGINT,
                oemsync_synced_at TIMESTAMPTZ,
                PRIMARY KEY (oem_code, oem_customer_id)
            );
            CREATE INDEX customers_phone ON customers (phone);
            """)
}
