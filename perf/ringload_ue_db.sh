# Sourced by the perf scripts that drive ringload: ringload_ue_db N prints N ue_db entries of
# ringload's default range (XOR USIMs from IMSI 001011000000000, K 00112233..ff) in the
# domain ims.test, one per line.
ringload_ue_db() {
    awk -v n="$1" 'BEGIN{for(i=0;i<n;i++){s=sprintf("00101100%07d",i);
        printf "  { sim_algo: \"xor\", imsi: \"%s\", K: \"00112233445566778899aabbccddeeff\", impi: \"%s@ims.test\", impu: [\"sip:%s\"] },\n",s,s,s}}'
}
