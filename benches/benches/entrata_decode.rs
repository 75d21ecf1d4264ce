//! Decoding throughput of a multi-megabyte `getLeases` r2 body: the typed
//! decoder (`GetLeases::decode`) against `serde_json::Value` on the same bytes.
//!
//! Run: `cargo bench -p benches -- entrata`. Both lines report MiB/s
//! (criterion `Throughput::Bytes`), so the ratio can be read off one run.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use entrata_client::GetLeases;

/// A getLeases r2 body in the recorded shape, with the quirks seen in real
/// responses: ids as strings here and numbers there, money with commas and
/// dollar signs, boolish `"t"`/`0`, timestamps with 0–6 fractional digits,
/// a one-element list collapsed to an object, a sprinkling of malformed
/// records that must be skipped.
fn leases_body(leases: usize) -> Vec<u8> {
    let mut s = String::with_capacity(leases * 4200);
    s.push_str(r#"{"response":{"requestId":"15","code":200,"result":{"currencyCode":"USD","leases":{"lease":["#);
    for i in 0..leases {
        if i > 0 {
            s.push(',');
        }
        let lease = 13_000_000 + i;
        let interval = 17_000_000 + i;
        let status = 1 + i % 6;
        let frac = ["", ".6", ".63", ".632", ".6325", ".63251", ".632515"][i % 7];
        // every 500th lease has a bad move-in date: skipped and reported
        let move_in = if i % 500 == 499 {
            "08/32/2024".to_owned()
        } else {
            format!("08/{:02}/2024", 1 + i % 28)
        };
        let amount = if i % 3 == 0 {
            format!("\"{},{:03}.00\"", 1 + i % 3, i % 1000)
        } else if i % 3 == 1 {
            format!("\"${}.50\"", 900 + i % 100)
        } else {
            format!("{}", 1000 + i % 500)
        };
        s.push_str(&format!(
            r#"{{"id":"{lease}","leaseStatusTypeId":"{status}","propertyId":"739084","moveInDate":"{move_in}","propertyName":"908 S. 1st","leaseIntervalStatus":"Current","occupancyTypeId":"10","occupancyType":"Student","isMonthToMonth":{mtm},"leaseIntervalId":"{interval}","floorPlanId":"565161","floorPlanName":"A1","spaceConfiguration":"Per Bedroom","paymentAllowanceType":"Allow All Payment Types","leaseSubStatus":"Renewed","originalLeaseStartDate":"08/16/2023","customers":{{"customer":["#,
            mtm = i % 2
        ));
        for c in 0..3 {
            if c > 0 {
                s.push(',');
            }
            let cid = 18_000_000 + i * 3 + c;
            let (kind, rel) = [
                ("Primary", "Primary"),
                ("Co-Applicant", "Roommate"),
                ("Guarantor", "Guarantor"),
            ][c];
            let phones = if c == 1 {
                r#"{"phone":{"phoneTypeName":"Primary","phoneType":"mobile","phoneNumber":"5555550100","countryCode":1}}"#.to_owned()
            } else {
                r#"{"phone":[{"phoneTypeName":"Primary","phoneType":"mobile","phoneNumber":"5555550100","countryCode":1}]}"#.to_owned()
            };
            let move_out = if c == 1 && i % 4 == 0 {
                r#","moveOutDate":"05/31/2025""#
            } else {
                ""
            };
            s.push_str(&format!(
                r#"{{"id":{cid},"customerType":"{kind}","firstName":"Jane","lastName":"Doe","middleName":"Q","nameFull":"Doe, Jane","emailAddress":"jane.doe{cid}@example.com","leaseCustomerStatus":"Current","relationshipName":"{rel}","moveInDate":"08/16/2024"{move_out},"paymentAllowanceType":"Allow All Payment Types","addresses":{{"address":[{{"addressType":"Previous","streetLine":"123 Example St","city":"Champaign","state":"IL","postalCode":"61820","countryName":"US"}}]}},"phones":{phones},"customerContacts":{{"customerContact":[{{"id":"8495728","contactTypeId":"7","contactTypeName":"Emergency Contact","firstName":"Jane","lastName":"Doe","primaryPhoneNumber":"5555550101","email":"contact@example.com","relationship":"Mother","hasAccessToUnit":"0"}}]}}}}"#
            ));
        }
        s.push_str(&format!(
            r#"]}},"pets":{{"pet":[{{"customerId":18058344,"petType":"Cat","age":2,"color":"brown","breed":"mixed","name":"Rex","weight":10,"gender":"F","isAssistanceAnimal":true,"moveInDate":"08/16/2024"}}]}},"unitId":"{unit}","unitSpaces":{{"unitSpace":[{{"unitSpaceId":{space},"unitSpace":"508"}}]}},"scheduledCharges":{{"scheduledCharge":[{{"id":"42354485","frequency":"Monthly","leaseIntervalId":"{interval}","chargeCodeId":"147881","startDate":"08/01/2024","endDate":"07/31/2025","chargeType":"Base Rent","chargeCode":"Base Rent","amount":{amount},"chargeUsage":"Base","description":"Base Rent"}},{{"id":"42354493","frequency":"Monthly","leaseIntervalId":"{interval}","chargeCodeId":"148097","startDate":"08/01/2024","endDate":"07/31/2025","chargeType":"other","chargeCode":"Lot Parking","amount":"95.00","chargeUsage":"Add-On","description":"Lot Parking"}}]}},"leaseIntervals":{{"leaseInterval":[{{"id":{interval},"startDate":"08/16/2024","endDate":"07/30/2025","leaseIntervalTypeId":{itype},"leaseIntervalTypeName":"{iname}","leaseIntervalStatusTypeId":4,"leaseIntervalStatusTypeName":"Current","applicationCompletedOn":"10/19/2023 16:03:27{frac} MDT","applicationId":"17393935","intervalDateTime":"10/19/2023 15:23:20.251934 MDT","applications":{{"application":[{{"id":"17393935","leaseApprovedOn":"07/17/2024 18:24:49 MDT","leaseTerm":"2024/2025","applicationCompletedOn":"10/19/2023 16:03:27{frac} MST","leaseIntervalTypeId":1,"isActiveLeaseInterval":"t","propertyFloorPlanId":"565161","leaseStartDate":"08/16/2024","leaseEndDate":"07/30/2025"}}]}}}}]}}}}"#,
            unit = 4_000_000 + i,
            space = 4_200_000 + i,
            itype = if i % 5 == 0 { 3 } else { 1 },
            iname = if i % 5 == 0 { "Renewal" } else { "Application" },
        ));
    }
    s.push_str("]}}}}");
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let body = leases_body(2000);
    let page = GetLeases::decode(&body).expect("the generated body decodes");
    assert_eq!(page.leases.len() + page.skipped.len(), 2000);
    assert_eq!(page.skipped.len(), 4);

    let mut group = c.benchmark_group("entrata_decode");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.sample_size(20);
    group.bench_function("getLeases_r2_typed", |b| {
        b.iter(|| GetLeases::decode(black_box(&body)).expect("decodes"))
    });
    group.bench_function("getLeases_r2_serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).expect("parses"))
    });
    group.finish();
    eprintln!(
        "entrata_decode: body is {:.1} MiB ({} leases)",
        body.len() as f64 / 1048576.0,
        2000
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
