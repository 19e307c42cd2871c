"""Write one chunk's landing files in each platform's own shape (see ingest/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingest.demo import reference as ref
from ingest.demo.chunk import Chunk
from ingest.demo.fmt import (
    buf_to_arrow,
    buf_to_list,
    fixed_ids,
    hash_u64,
    int_arrow,
    money_arrow,
    money_list,
    permute,
    ts_arrow,
    ts_buf,
)
from ingest.demo.simulate import CARRIER_NAMES, CODES, RETURN_REASONS, TICKET_STATUS, TOPICS
from ingest.demo.world import DAY

PAGE_SIZE = 5000
SHOPIFY_LINE_BASE = 14_200_000_000_000
SHOPIFY_REFUND_BASE = 980_000_000_000


def write_csv(path: Path, table: pa.Table, delimiter: str = ",") -> int:
    """CSV/TSV without quoting (the generator never emits delimiters or quotes inside values)."""
    header = delimiter.join(table.column_names) + "\n"
    with path.open("wb") as fh:
        fh.write(header.encode())
        if table.num_rows:
            pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, delimiter=delimiter, quoting_style="none"))
    return table.num_rows


def write_json(path: Path, body: dict) -> None:
    path.write_bytes(orjson.dumps(body))


class Renderer:
    def __init__(self, c: Chunk):
        self.c = c
        w, o = c.w, c.o
        self.w = w
        self.o = o
        self.h = float(w.horizon)
        self.cur_codes = np.array(ref.CURRENCIES)
        self.dec = w.cur_decimals[o["currency"]]
        self.lines = np.stack([o["sku1"], o["sku2"], o["sku3"]], axis=1)
        self.qty = np.stack([o["qty1"], o["qty2"], o["qty3"]], axis=1)
        self.unit = np.stack([o["unit1"], o["unit2"], o["unit3"]], axis=1)
        self.line_total = self.unit * self.qty
        # discount allocated to lines in proportion to their value; remainder on the first line
        sub = np.maximum(o["subtotal"], 1)
        alloc = np.floor(o["discount"][:, None] * self.line_total / sub[:, None]).astype(np.int64)
        alloc[:, 0] += o["discount"] - alloc.sum(axis=1)
        self.alloc = alloc
        self.country_codes = np.array(w.country_codes)
        # the last moment anything happened to the order before as_of
        t = o["t"]
        upd = np.where(c.shipped, o["shipped_t"], t)
        upd = np.where(c.delivered, o["delivered_t"], upd)
        upd = np.where(o["cancelled"], np.minimum(o["cancel_t"], self.h - 1e-4), upd)
        upd = np.where(c.refund_visible, np.maximum(upd, np.minimum(c.refund_t, self.h - 1e-4)), upd)
        self.updated_t = np.minimum(upd, self.h - 1e-4)

    # ------------------------------------------------------------ helpers
    def unix(self, t: np.ndarray) -> np.ndarray:
        return self.w.start_unix + np.round(np.asarray(t) * DAY).astype(np.int64)

    def local_ts(self, t: np.ndarray, person: np.ndarray) -> list[str]:
        u = self.unix(t)
        off = self.w.utc_offset_min(self.c.p.zone[person], u)
        return buf_to_list(ts_buf(u, "offset", offset_min=off))

    def money(self, minor: np.ndarray, idx: np.ndarray) -> list[str]:
        return money_list(minor, self.dec[idx])

    # ------------------------------------------------------------ shopify
    def shopify(self, folder: Path) -> tuple[int, list[Path]]:
        c, o, w, ids = self.c, self.o, self.w, self.c.ids
        idx = np.flatnonzero(o["platform"] == 0)
        files = []
        persons = o["person"][idx]
        # customer objects, shared by all orders of the person
        first_t = {}
        for i, t in zip(persons.tolist(), o["t"][idx].tolist(), strict=True):
            first_t.setdefault(i, t)
        cust_persons = np.array(sorted(first_t), dtype=np.int64)
        created = self.local_ts(np.array([first_t[i] for i in cust_persons.tolist()]) - 300 / DAY, cust_persons) if len(cust_persons) else []
        unsub_local = {}
        if len(cust_persons):
            un = c.unsub_unix[cust_persons]
            off = w.utc_offset_min(c.p.zone[cust_persons], np.maximum(un, 0))
            for i, s, valid in zip(cust_persons.tolist(), buf_to_list(ts_buf(np.maximum(un, 0), "offset", offset_min=off)), (un >= 0).tolist(), strict=True):
                if valid:
                    unsub_local[i] = s
        customers, addresses = {}, {}
        primary_l = (c.p.primary == 0).tolist()
        consent_l = c.p.shopify_consent.tolist()
        country_l = c.p.country.tolist()
        city_l = c.p.city.tolist()
        customer_id_l = ids.shopify_customer_id.tolist()
        for i, cr in zip(cust_persons.tolist(), created, strict=True):
            subscribed = primary_l[i] and consent_l[i] == 1
            if i in unsub_local:
                consent = {"state": "unsubscribed", "opt_in_level": "single_opt_in", "consent_updated_at": unsub_local[i]}
            elif subscribed:
                consent = {"state": "subscribed", "opt_in_level": "single_opt_in", "consent_updated_at": cr}
            else:
                consent = {"state": "not_subscribed", "opt_in_level": "single_opt_in", "consent_updated_at": None}
            phone = ids.shopify_phone[i]
            customers[i] = {
                "id": customer_id_l[i],
                "email": ids.shopify_email[i],
                "phone": phone,
                "first_name": ids.shopify_first[i],
                "last_name": ids.shopify_last[i],
                "created_at": cr,
                "state": "enabled",
                "verified_email": True,
                "currency": ref.COUNTRIES[w.country_codes[country_l[i]]]["currency"],
                "email_marketing_consent": consent,
                "sms_marketing_consent": {"state": "not_subscribed", "opt_in_level": "single_opt_in",
                                          "consent_updated_at": None, "consent_collected_from": "OTHER"} if phone else None,
            }
            city = w.cities[city_l[i]]
            code = w.country_codes[country_l[i]]
            addresses[i] = {
                "first_name": ids.shopify_first[i], "last_name": ids.shopify_last[i], "address1": ids.address1[i],
                "address2": None, "city": city[0], "province": city[1], "province_code": city[2], "zip": ids.zip[i],
                "country": ref.COUNTRIES[code]["name"], "country_code": code, "phone": ids.shipping_phone[i],
            }
        created_s = self.local_ts(o["t"][idx], persons)
        updated_s = self.local_ts(self.updated_t[idx], persons)
        cancel_s = self.local_ts(o["cancel_t"][idx], persons)
        refund_s = self.local_ts(np.minimum(self.c.refund_t[idx], self.h - 1e-4), persons)
        total = self.money(o["total"][idx], idx)
        subtotal = self.money(o["subtotal"][idx] - o["discount"][idx], idx)
        disc = self.money(o["discount"][idx], idx)
        tax = self.money(o["tax"][idx], idx)
        ship = self.money(o["shipping"][idx], idx)
        cur = self.cur_codes[o["currency"][idx]].tolist()
        unit_s = [self.money(self.unit[idx, j], idx) for j in range(3)]
        alloc_s = [self.money(self.alloc[idx, j], idx) for j in range(3)]
        net_line_s = [self.money(self.line_total[idx, j] - self.alloc[idx, j], idx) for j in range(3)]
        refund_amt = self.money(o["refund"][idx], idx)
        taxes_included = (w.tax_rate[o["country"][idx]] == 0).tolist()
        seq = c.platform_seq[idx]
        line_base = SHOPIFY_LINE_BASE + c.chunk * 100_000_000 + seq * 3
        names = (1001 + c.chunk * 1_000_000 + seq).tolist()
        titles = [p[1] for p in ref.PRODUCTS]
        product_ids = [int(x) for x in w.product_ids]
        variant_ids = [int(x) for x in w.variant_ids]
        refund_ids = (SHOPIFY_REFUND_BASE + c.chunk * 10_000_000 + seq).tolist()
        full_refund = (o["refund"][idx] >= o["total"][idx]).tolist()
        records = []
        rows = zip(
            [int(x) for x in c.order_id_array(idx)], names, persons.tolist(), o["cancelled"][idx].tolist(), c.shipped[idx].tolist(),
            c.refund_visible[idx].tolist(), o["code"][idx].tolist(), o["ret_col"][idx].tolist(), line_base.tolist(),
            self.lines[idx].tolist(), self.qty[idx].tolist(), full_refund, refund_ids, created_s, updated_s, cancel_s, refund_s,
            total, subtotal, disc, tax, ship, cur, taxes_included, refund_amt, zip(*unit_s, strict=True), zip(*alloc_s, strict=True),
            zip(*net_line_s, strict=True), strict=True,
        )
        for (oid, name, i, cancelled, shipped, refunded, code, ret_col, lb, skus, qty, full, refund_id, created, updated, cancel,
             refund_at, total_k, subtotal_k, disc_k, tax_k, ship_k, cur_k, tax_incl, refund_k, units, allocs, nets) in rows:
            items = [
                {"id": lb + j, "product_id": product_ids[s], "variant_id": variant_ids[s], "sku": w.skus[s], "title": titles[s],
                 "quantity": qty[j], "price": units[j], "total_discount": allocs[j]}
                for j, s in enumerate(skus) if s >= 0
            ]
            refunds = []
            if refunded:
                if cancelled:
                    rli = [{"line_item_id": lb + j, "quantity": qty[j], "subtotal": nets[j]} for j, s in enumerate(skus) if s >= 0]
                else:
                    rli = [{"line_item_id": lb + ret_col, "quantity": qty[ret_col], "subtotal": refund_k}]
                refunds.append({"id": refund_id, "created_at": refund_at, "refund_line_items": rli})
            if cancelled:
                financial = "refunded" if refunded else "voided"
            elif refunded:
                financial = "refunded" if full else "partially_refunded"
            else:
                financial = "paid"
            shipping = {"amount": ship_k, "currency_code": cur_k}
            records.append({
                "id": oid,
                "name": f"#{name}",
                "email": ids.shopify_email[i],
                "phone": ids.shopify_phone[i],
                "created_at": created,
                "updated_at": updated,
                "processed_at": created,
                "cancelled_at": cancel if cancelled else None,
                "cancel_reason": "customer" if cancelled else None,
                "currency": cur_k,
                "presentment_currency": cur_k,
                "total_price": total_k,
                "subtotal_price": subtotal_k,
                "total_discounts": disc_k,
                "total_tax": tax_k,
                "taxes_included": tax_incl,
                "total_shipping_price_set": {"shop_money": shipping, "presentment_money": shipping},
                "discount_codes": [{"code": CODES[code], "amount": disc_k, "type": "percentage"}] if code >= 0 else [],
                "financial_status": financial,
                "fulfillment_status": "fulfilled" if shipped else None,
                "customer": customers[i],
                "shipping_address": addresses[i],
                "line_items": items,
                "refunds": refunds,
            })
        for page, start in enumerate(range(0, len(records), PAGE_SIZE)):
            path = folder / f"orders_{c.chunk + 1:05d}_{page + 1:03d}.json"
            write_json(path, {"orders": records[start : start + PAGE_SIZE]})
            files.append(path)
        return len(records), files

    # ------------------------------------------------------------ amazon
    def amazon(self, folder: Path) -> tuple[int, list[Path]]:
        c, o, w, ids = self.c, self.o, self.w, self.c.ids
        idx = np.flatnonzero(o["platform"] == 1)
        li_order, li_col = np.nonzero(self.lines[idx] >= 0)
        oi = idx[li_order]
        sku = self.lines[oi, li_col]
        first = li_col == 0
        person = o["person"][oi]
        dec = self.dec[oi]
        status = np.where(o["cancelled"][oi], 2, np.where(c.shipped[oi], 0, 1))
        # order-level amounts on the first row: shipping; tax and promotion split per line
        sub = np.maximum(o["subtotal"][oi], 1)
        line_tax = np.round(o["tax"][oi] * self.line_total[oi, li_col] / sub).astype(np.int64)
        channel = np.array([ref.COUNTRIES[x]["amazon"][0] for x in w.country_codes])[o["country"][oi]]
        s_arrow = pa.array(w.skus)
        titles = pa.array([p[1] for p in ref.PRODUCTS])
        asins = pa.array(w.asins)
        sku_i = pa.array(sku)
        cities = pa.array([x[0] for x in w.cities])
        states = pa.array([x[2] or "" for x in w.cities])
        oid = pa.array(c.order_id_array(oi).tolist(), pa.string())
        pa_person = pa.array(person)
        table = pa.table({
            "amazon-order-id": oid,
            "merchant-order-id": pa.array([""] * len(oi), pa.string()),
            "purchase-date": ts_arrow(c.unix[oi], style="utc"),
            "last-updated-date": ts_arrow(self.unix(self.updated_t[oi]), style="utc"),
            "order-status": pc.take(pa.array(["Shipped", "Pending", "Cancelled"]), pa.array(status)),
            "fulfillment-channel": pc.take(pa.array(["Merchant", "Amazon"]), pa.array(o["fba"][oi].astype(np.int64))),
            "sales-channel": pa.array(channel.tolist(), pa.string()),
            "sku": pc.take(s_arrow, sku_i),
            "asin": pc.take(asins, sku_i),
            "product-name": pc.take(titles, sku_i),
            "quantity": int_arrow(self.qty[oi, li_col]),
            "currency": pa.array(self.cur_codes[o["currency"][oi]].tolist(), pa.string()),
            "item-price": money_arrow(self.line_total[oi, li_col], dec),
            "item-tax": money_arrow(line_tax, dec),
            "shipping-price": money_arrow(np.where(first, o["shipping"][oi], 0), dec),
            "item-promotion-discount": money_arrow(self.alloc[oi, li_col], dec),
            "ship-city": pc.take(cities, pa.array(c.p.city[person])),
            "ship-state": pc.take(states, pa.array(c.p.city[person])),
            "ship-postal-code": pc.take(pa.array(ids.zip), pa_person),
            "ship-country": pa.array(self.country_codes[o["country"][oi]].tolist(), pa.string()),
            "buyer-email": pc.take(pa.array(ids.amazon_relay), pa_person),
            "buyer-name": pc.take(pa.array(ids.amazon_name), pa_person),
        })
        if not len(oi):
            return 0, []
        path = folder / f"all_orders_{c.chunk + 1:05d}.tsv"
        write_csv(path, table, "\t")
        return len(oi), [path]

    # ------------------------------------------------------------ ebay
    def ebay(self, folder: Path) -> tuple[int, list[Path]]:
        c, o, w, ids = self.c, self.o, self.w, self.c.ids
        idx = np.flatnonzero(o["platform"] == 2)
        if not len(idx):
            return 0, []
        persons = o["person"][idx]
        created = buf_to_list(ts_buf(c.unix[idx], "msZ", millis=hash_u64(w.seed, c.unix[idx], 31) % np.uint64(1000)))
        updated = buf_to_list(ts_buf(self.unix(self.updated_t[idx]), "msZ", millis=np.zeros(len(idx), np.int64)))
        refund_s = buf_to_list(ts_buf(self.unix(np.minimum(c.refund_t[idx], self.h - 1e-4)), "msZ"))
        cur = self.cur_codes[o["currency"][idx]].tolist()
        subtotal = self.money(o["subtotal"][idx], idx)
        disc = self.money(-o["discount"][idx], idx)
        ship = self.money(o["shipping"][idx], idx)
        total = self.money(o["total"][idx], idx)
        refund_amt = self.money(np.where(o["cancelled"][idx], o["total"][idx], o["refund"][idx]), idx)
        line_cost = [self.money(self.line_total[idx, j], idx) for j in range(3)]
        line_net = [self.money(self.line_total[idx, j] - self.alloc[idx, j], idx) for j in range(3)]
        seq = c.platform_seq[idx]
        line_ids = permute(((c.chunk * 10_000_000 + seq) * 3)[:, None] + np.arange(3)[None, :], 10, w.seed + 32)
        legacy = permute(c.chunk * 10_000_000 + seq, 12, w.seed + 33)
        refund_ids = permute(c.chunk * 10_000_000 + seq, 10, w.seed + 34)
        titles = [p[1] for p in ref.PRODUCTS]
        buyers = {}
        for i in sorted(set(persons.tolist())):
            city = w.cities[c.p.city[i]]
            code = w.country_codes[c.p.country[i]]
            region = city[2] or ""
            buyers[i] = {
                "username": ids.ebay_username[i],
                "taxAddress": {"countryCode": code, "postalCode": ids.zip[i], "city": city[0], "stateOrProvince": region},
                "buyerRegistrationAddress": {
                    "fullName": ids.ebay_name[i], "email": ids.ebay_email[i],
                    "primaryPhone": {"phoneNumber": ids.ebay_phone[i]},
                    "contactAddress": {"addressLine1": ids.address1[i], "city": city[0], "stateOrProvince": region,
                                       "postalCode": ids.zip[i], "countryCode": code},
                },
            }
        oids = c.order_id_array(idx).tolist()
        cols = dict(person=persons.tolist(), cancelled=o["cancelled"][idx].tolist(), shipped=c.shipped[idx].tolist(),
                    refund=c.refund_visible[idx].tolist(), skus=self.lines[idx].tolist(), qty=self.qty[idx].tolist(),
                    full=(o["cancelled"][idx] | (o["refund"][idx] >= o["total"][idx])).tolist(),
                    line_ids=line_ids.tolist(), legacy=legacy.tolist(), refund_ids=refund_ids.tolist())
        records = []
        for k in range(len(idx)):
            ccy = cur[k]
            items = []
            for j in range(3):
                s = cols["skus"][k][j]
                if s < 0:
                    continue
                items.append({
                    "lineItemId": str(10_000_000_000 + cols["line_ids"][k][j]), "legacyItemId": w.ebay_item_ids[s], "sku": w.skus[s],
                    "title": titles[s], "quantity": cols["qty"][k][j],
                    "lineItemCost": {"value": line_cost[j][k], "currency": ccy}, "total": {"value": line_net[j][k], "currency": ccy},
                })
            cancelled = cols["cancelled"][k]
            refunded = cols["refund"][k]
            records.append({
                "orderId": oids[k],
                "legacyOrderId": f"{w.ebay_item_ids[cols['skus'][k][0]]}-{10**12 + cols['legacy'][k]}",
                "creationDate": created[k],
                "lastModifiedDate": updated[k],
                "orderFulfillmentStatus": "FULFILLED" if cols["shipped"][k] else "NOT_STARTED",
                "orderPaymentStatus": ("FULLY_REFUNDED" if cols["full"][k] else "PARTIALLY_REFUNDED") if refunded else "PAID",
                "cancelStatus": {"cancelState": "CANCELED" if cancelled else "NONE_REQUESTED"},
                "buyer": buyers[cols["person"][k]],
                "pricingSummary": {
                    "priceSubtotal": {"value": subtotal[k], "currency": ccy},
                    "priceDiscount": {"value": disc[k], "currency": ccy},
                    "deliveryCost": {"value": ship[k], "currency": ccy},
                    "total": {"value": total[k], "currency": ccy},
                },
                "lineItems": items,
                "paymentSummary": {"refunds": [{"refundId": f"5{cols['refund_ids'][k]:010d}", "refundDate": refund_s[k],
                                                "amount": {"value": refund_amt[k], "currency": ccy}}] if refunded else []},
            })
        files = []
        for page, start in enumerate(range(0, len(records), PAGE_SIZE)):
            path = folder / f"orders_{c.chunk + 1:05d}_{page + 1:03d}.json"
            base = "https://api.ebay.com/sell/fulfillment/v1/order"
            body = {"href": f"{base}?limit={PAGE_SIZE}&offset={start}", "total": len(records), "limit": PAGE_SIZE, "offset": start}
            if start + PAGE_SIZE < len(records):
                body["next"] = f"{base}?limit={PAGE_SIZE}&offset={start + PAGE_SIZE}"
            body["orders"] = records[start : start + PAGE_SIZE]
            write_json(path, body)
            files.append(path)
        return len(records), files

    # ------------------------------------------------------------ walmart
    def walmart(self, folder: Path) -> tuple[int, list[Path]]:
        c, o, w, ids = self.c, self.o, self.w, self.c.ids
        idx = np.flatnonzero(o["platform"] == 3)
        if not len(idx):
            return 0, []
        persons = o["person"][idx]
        ms = (c.unix[idx] * 1000 + (hash_u64(w.seed, c.unix[idx], 41) % np.uint64(1000)).astype(np.int64)).tolist()
        est_ship = (self.unix(np.floor(o["t"][idx]) + 2) * 1000).tolist()
        est_delivery = (self.unix(np.floor(o["t"][idx]) + 6) * 1000).tolist()
        status_t = np.where(c.delivered[idx], o["delivered_t"][idx], np.where(c.shipped[idx], o["shipped_t"][idx], o["t"][idx]))
        status_t = np.where(o["cancelled"][idx], np.minimum(o["cancel_t"][idx], self.h - 1e-4), status_t)
        status_ms = (self.unix(status_t) * 1000).tolist()
        status = np.where(o["cancelled"][idx], "Cancelled", np.where(c.delivered[idx], "Delivered",
                          np.where(c.shipped[idx], "Shipped", "Acknowledged"))).tolist()
        line_amt = [(self.line_total[idx, j] / 100.0).tolist() for j in range(3)]
        sub = np.maximum(o["subtotal"][idx], 1)
        line_tax = [(np.round(o["tax"][idx] * self.line_total[idx, j] / sub) / 100.0).tolist() for j in range(3)]
        seq = c.platform_seq[idx]
        customer_order = permute(c.chunk * 10_000_000 + seq, 12, w.seed + 42)
        methods = np.array(["Value", "Standard", "Express"])[(hash_u64(w.seed, seq, 43) % np.uint64(3)).astype(np.int64)].tolist()
        titles = [p[1] for p in ref.PRODUCTS]
        oids = c.order_id_array(idx).tolist()
        skus = self.lines[idx].tolist()
        qty = self.qty[idx].tolist()
        records = []
        for k in range(len(idx)):
            i = int(persons[k])
            city = w.cities[c.p.city[i]]
            lines = []
            for j in range(3):
                s = skus[k][j]
                if s < 0:
                    continue
                lines.append({
                    "lineNumber": str(j + 1),
                    "item": {"productName": titles[s], "sku": w.skus[s]},
                    "charges": {"charge": [{
                        "chargeType": "PRODUCT", "chargeName": "ItemPrice",
                        "chargeAmount": {"currency": "USD", "amount": line_amt[j][k]},
                        "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": line_tax[j][k]}},
                    }]},
                    "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty[k][j])},
                    "statusDate": status_ms[k],
                    "orderLineStatuses": {"orderLineStatus": [{"status": status[k],
                                                               "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty[k][j])}}]},
                })
            records.append({
                "purchaseOrderId": oids[k],
                "customerOrderId": "5" + str(customer_order[k]).zfill(12),
                "customerEmailId": ids.walmart_relay[i],
                "orderDate": ms[k],
                "shippingInfo": {
                    "phone": ids.phone_digits[i],
                    "estimatedDeliveryDate": est_delivery[k],
                    "estimatedShipDate": est_ship[k],
                    "methodCode": methods[k],
                    "postalAddress": {"name": ids.walmart_name[i], "address1": ids.address1[i], "address2": None, "city": city[0],
                                      "state": city[2], "postalCode": ids.zip[i], "country": "USA", "addressType": "RESIDENTIAL"},
                },
                "orderLines": {"orderLine": lines},
            })
        files = []
        for page, start in enumerate(range(0, len(records), PAGE_SIZE)):
            path = folder / f"orders_{c.chunk + 1:05d}_{page + 1:03d}.json"
            more = start + PAGE_SIZE < len(records)
            meta = {"totalCount": len(records), "limit": PAGE_SIZE,
                    "nextCursor": f"?limit={PAGE_SIZE}&hasMoreElements=true&soIndex={start + PAGE_SIZE}" if more else None}
            write_json(path, {"list": {"meta": meta, "elements": {"order": records[start : start + PAGE_SIZE]}}})
            files.append(path)
        return len(records), files

    # ------------------------------------------------------------ logistics, returns, support
    def shipments(self, folder: Path) -> tuple[int, list[Path]]:
        c, o, w = self.c, self.o, self.w
        idx = np.flatnonzero(c.shipped)
        n = len(idx)
        carrier = o["carrier"][idx]
        seq = np.arange(n)
        x = c.chunk * 1_000_000 + seq
        tracking = np.empty(n, dtype=object)
        for k, name in enumerate(CARRIER_NAMES):
            m = carrier == k
            if not m.any():
                continue
            prefix, digits, suffix = ref.CARRIERS[name]
            if digits == 9:  # UPU S10: 8 digits + check digit
                core = permute(x[m] % 10**8, 8, w.seed + 50 + k)
                tracking[m] = [f"{prefix}{d:08d}{_s10_check(d)}{suffix}" for d in core.tolist()]
            else:
                core = permute(x[m] % 10**10, 10, w.seed + 50 + k)
                pad = (hash_u64(w.seed, x[m], 60 + k) % np.uint64(10 ** max(digits - 10, 1))).astype(np.int64)
                if digits > 10:
                    tracking[m] = [f"{prefix}{a:0{digits - 10}d}{b:010d}{suffix}" for a, b in zip(pad.tolist(), core.tolist(), strict=True)]
                else:
                    tracking[m] = [f"{prefix}{b:010d}{suffix}" for b in core.tolist()]
        delivered = c.delivered[idx]
        table = pa.table({
            "shipment_id": buf_to_arrow(fixed_ids("SHP", c.chunk + 1, seq + 1, 7)),
            "platform": pa.array(np.array(ref.PLATFORMS)[o["platform"][idx]].tolist(), pa.string()),
            "order_id": pa.array(c.order_id_array(idx).tolist(), pa.string()),
            "carrier": pa.array(np.array(CARRIER_NAMES)[carrier].tolist(), pa.string()),
            "tracking_number": pa.array(tracking.tolist(), pa.string()),
            "destination_country": pa.array(self.country_codes[o["country"][idx]].tolist(), pa.string()),
            "shipped_at": ts_arrow(self.unix(o["shipped_t"][idx]), style="Z"),
            "delivered_at": ts_arrow(self.unix(np.where(delivered, o["delivered_t"][idx], 0)), valid=delivered, style="Z"),
        })
        path = folder / f"shipments_{c.chunk + 1:05d}.csv"
        write_csv(path, table)
        return n, [path]

    def returns(self, folder: Path) -> tuple[int, list[Path]]:
        c, o, w = self.c, self.o, self.w
        idx = np.flatnonzero(c.return_visible)
        n = len(idx)
        table = pa.table({
            "return_id": buf_to_arrow(fixed_ids("RMA", c.chunk + 1, np.arange(1, n + 1), 6)),
            "platform": pa.array(np.array(ref.PLATFORMS)[o["platform"][idx]].tolist(), pa.string()),
            "order_id": pa.array(c.order_id_array(idx).tolist(), pa.string()),
            "sku": pa.array(np.array(w.skus)[o["ret_sku"][idx]].tolist(), pa.string()),
            "quantity": int_arrow(self.qty[idx, o["ret_col"][idx]]),
            "reason": pa.array(np.array(RETURN_REASONS)[o["ret_reason"][idx]].tolist(), pa.string()),
            "requested_at": ts_arrow(self.unix(o["return_t"][idx]), style="Z"),
            "refund_amount": money_arrow(o["refund"][idx], self.dec[idx]),
            "currency": pa.array(self.cur_codes[o["currency"][idx]].tolist(), pa.string()),
        })
        path = folder / f"returns_{c.chunk + 1:05d}.csv"
        write_csv(path, table)
        return n, [path]

    def support(self, folder: Path) -> tuple[int, list[Path]]:
        c, o = self.c, self.o
        idx = np.flatnonzero(c.ticket_visible)
        idx = idx[np.argsort(o["created_t"][idx], kind="stable")]
        n = len(idx)
        h = self.h
        created = o["created_t"][idx]
        unresolved = o["unresolved"][idx]
        solved_t = o["solved_t"][idx]
        solved = ~unresolved & (solved_t < h)
        closed = solved & (solved_t + 4 < h)
        status = np.where(unresolved, np.where(o["pending"][idx], 1, 0), np.where(closed, 3, np.where(solved, 2, 0)))
        touched = o["touched_t"][idx]
        updated = np.where(unresolved, np.where(touched < h, touched, created), np.where(closed, solved_t + 4, np.where(solved, solved_t, created)))
        emails = pa.array(c.ids.main_email)
        table = pa.table({
            "ticket_id": int_arrow(100_000 + c.chunk * 1_000_000 + np.arange(n)),
            "requester_email": pc.take(emails, pa.array(o["person"][idx])),
            "platform": pa.array(np.array(ref.PLATFORMS)[o["platform"][idx]].tolist(), pa.string()),
            "order_ref": pa.array(c.order_id_array(idx).tolist(), pa.string()),
            "topic": pa.array(np.array(TOPICS)[o["topic"][idx]].tolist(), pa.string()),
            "is_complaint": pa.array(np.where(o["complaint"][idx], "true", "false").tolist(), pa.string()),
            "status": pa.array(np.array(TICKET_STATUS)[status].tolist(), pa.string()),
            "created_at": ts_arrow(self.unix(created), style="Z"),
            "updated_at": ts_arrow(self.unix(np.minimum(updated, h - 1e-4)), style="Z"),
            "solved_at": ts_arrow(self.unix(np.where(solved, solved_t, 0)), valid=solved, style="Z"),
        })
        path = folder / f"tickets_{c.chunk + 1:05d}.csv"
        write_csv(path, table)
        return n, [path]


def _s10_check(d: int) -> int:
    weights = (8, 6, 4, 2, 3, 5, 9, 7)
    s = sum(int(ch) * wt for ch, wt in zip(f"{d:08d}", weights, strict=True))
    r = 11 - s % 11
    return 5 if r == 11 else 0 if r == 10 else r
